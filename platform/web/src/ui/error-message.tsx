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
  const showDetails = human.code !== undefined && (human.code !== human.details || human.details !== "");
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
        {showDetails ? (
          <details className="error-details">
            <summary>Details</summary>
            <code className="error-code">{human.code}</code> <span className="error-raw">{human.details}</span>
          </details>
        ) : null}
      </div>
      {onDismiss ? (
        <button type="button" className="button ghost small" onClick={onDismiss} aria-label="Dismiss error">
          ✕
        </button>
      ) : null}
    </div>
  );
}
