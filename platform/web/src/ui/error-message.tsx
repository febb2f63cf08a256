import type { ReactNode } from "react";

/**
 * The one place errors are shown: their stable code and a human message (`data-testid="error"`).
 * `tenant_suspended` is not repeated on every screen: the suspension banner says it once, with the reason.
 */
export function ErrorMessage({
  error,
  onDismiss,
  className,
  children,
}: {
  error: { code?: string | undefined; message: string } | undefined;
  onDismiss?: () => void;
  className?: string;
  /** Actions shown after the message, e.g. a Retry button. */
  children?: ReactNode;
}) {
  if (!error || error.code === "tenant_suspended") return null;
  return (
    <div className={`error${className ? ` ${className}` : ""}`} role="alert" data-testid="error">
      <div className="error-text">
        {error.code ? <code className="error-code">{error.code}</code> : null}
        <span>{error.message}</span>
        {children}
      </div>
      {onDismiss ? (
        <button type="button" className="button ghost small" onClick={onDismiss} aria-label="Dismiss error">
          ✕
        </button>
      ) : null}
    </div>
  );
}
