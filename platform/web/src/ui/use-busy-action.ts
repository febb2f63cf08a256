import { useCallback, useState } from "react";
import { toErrorDetail } from "../api/api-error";

/**
 * One button's worth of work: `run` marks it busy, clears the last error, and keeps the error the
 * action throws for an `ErrorMessage`. `busy` disables the buttons meanwhile.
 */
export function useBusyAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ code: string; message: string }>();
  const run = useCallback(async (action: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await action();
    } catch (thrown) {
      setError(toErrorDetail(thrown));
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, setError, run };
}
