/** The one place errors are shown: their stable code and a human message (`data-testid="error"`). */
export function ErrorMessage({ error, onDismiss }: { error: { code?: string | undefined; message: string } | undefined; onDismiss?: () => void }) {
  if (!error) return null;
  return (
    <div className="error" role="alert" data-testid="error">
      <div className="error-text">
        {error.code ? <code className="error-code">{error.code}</code> : null}
        <span>{error.message}</span>
      </div>
      {onDismiss ? (
        <button type="button" className="button ghost small" onClick={onDismiss} aria-label="Dismiss error">
          ✕
        </button>
      ) : null}
    </div>
  );
}
