import type { ReactNode } from "react";
import { describeError, type ErrorInput } from "../errors/describe-error";

/**
 * The one place errors are shown (`data-testid="error"`, `data-code` for tests): a sentence a user
 * understands and one next step, from the mapping in `errors/`; the stable code and the server's own
 * message only inside a "Details" disclosure. `tenant_suspended` is not repeated on every screen:
 * the suspension banner says it once, with the reason.
 */
export function ErrorMessage({
  error,
  onDismiss,
  onRetry,
  className,
  children,
}: {
  error: ErrorInput | undefined;
  onDismiss?: () => void;
  /** Offered only when the error is retryable (the server's flag, else the code's default). */
  onRetry?: (() => void) | undefined;
  className?: string;
  /** Actions shown after the message, e.g. a link to the screen that fixes it. */
  children?: ReactNode;
}) {
  if (!error || error.code === "tenant_suspended") return null;
  const human = describeError(error);
  return (
    <div className={`error${className ? ` ${className}` : ""}`} role="alert" data-testid="error" data-code={human.code}>
      <div className="error-text">
        <p className="error-sentence">
          <strong>{human.sentence}</strong>
          {human.next ? <span> {human.next}</span> : null}
        </p>
        {human.fields.length > 1 ? (
          <ul className="error-fields">
            {human.fields.map((field) => (
              <li key={field.field}>{field.message}</li>
            ))}
          </ul>
        ) : null}
        {children || (onRetry && human.retryable) ? (
          <div className="error-actions">
            {onRetry && human.retryable ? (
              <button type="button" className="button small" onClick={onRetry}>
                Retry
              </button>
            ) : null}
            {children}
          </div>
        ) : null}
        <ErrorDetails code={human.code} details={human.details} />
      </div>
      {onDismiss ? (
        <button type="button" className="button ghost small" onClick={onDismiss} aria-label="Dismiss error">
          ✕
        </button>
      ) : null}
    </div>
  );
}

/**
 * A past error inside a list or a sentence (a schedule's firing, the last heartbeat): the human
 * sentence inline, the code and the server's message behind "Details". Not an alert: nothing new happened.
 */
export function ErrorSummary({ error, className }: { error: ErrorInput; className?: string }) {
  const human = describeError(error);
  return (
    <div className={`error-summary${className ? ` ${className}` : ""}`} data-code={human.code}>
      {human.sentence}
      <ErrorDetails code={human.code} details={human.details} />
    </div>
  );
}

/** The code and the server's own words, behind "Details": for whoever reports the problem. */
function ErrorDetails({ code, details }: { code: string | undefined; details: string | undefined }) {
  if (!code) return null;
  return (
    <details className="error-details">
      <summary>Details</summary>
      <code className="error-code">{code}</code> <span className="error-raw">{details}</span>
    </details>
  );
}
