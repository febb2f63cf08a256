import { useState } from "react";
import { toErrorDetail, type ShownError } from "../api/api-error";

/**
 * One thing at a time from a row's buttons: `act` runs an action with the buttons `busy`, and
 * keeps its failure in `error` for an ErrorMessage (cleared when the next action starts).
 */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ShownError>();
  async function act(action: () => Promise<void>): Promise<void> {
    setBusy(true);
    setError(undefined);
    try {
      await action();
    } catch (thrown) {
      setError(toErrorDetail(thrown));
    } finally {
      setBusy(false);
    }
  }
  return { busy, error, setError, act };
}
