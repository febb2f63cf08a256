import { useEffect, useState } from "react";
import { ErrorMessage } from "../ui/error-message";

/** How long to wait before checking again after `attempt` failed checks: 2 s doubling to 30 s. */
export function recoveryDelay(attempt: number): number {
  return Math.min(30_000, 2_000 * 2 ** Math.max(0, attempt));
}

/**
 * The agent gateway is unreachable: one banner for everyone (never where the gateway lives, that is
 * the operator's business), and checks back by itself with a growing pause until it answers, when
 * the banner goes away on its own. "Check now" skips the wait.
 */
export function GatewayBanner({ error, check }: { error: { code: string; message: string } | undefined; check: () => Promise<void> }) {
  const [attempt, setAttempt] = useState(0);
  const [checking, setChecking] = useState(false);
  const down = error !== undefined;

  useEffect(() => {
    if (!down) {
      setAttempt(0);
      return;
    }
    const timer = window.setTimeout(() => {
      setChecking(true);
      void check().finally(() => {
        setChecking(false);
        setAttempt((value) => value + 1);
      });
    }, recoveryDelay(attempt));
    return () => window.clearTimeout(timer);
  }, [down, attempt, check]);

  if (!error) return null;
  return (
    <div className="banner-error" data-testid="gateway-banner">
      <ErrorMessage error={error}>
        <button
          type="button"
          className="button small"
          disabled={checking}
          onClick={() => {
            setChecking(true);
            void check().finally(() => setChecking(false));
          }}
        >
          {checking ? "Checking…" : "Check now"}
        </button>
      </ErrorMessage>
    </div>
  );
}
