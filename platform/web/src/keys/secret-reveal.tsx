import { useEffect, useId, useRef } from "react";
import type { CreatedApiKey } from "../api/platform-schemas";
import { CopyButton } from "../ui/copy-button";

/** The new key's secret, shown once: the platform stores only its hash. Focus moves here so it is read out. */
export function SecretReveal({ created, onDone }: { created: CreatedApiKey; onDone: () => void }) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    input.current?.focus();
    input.current?.select();
  }, [created]);
  return (
    <div className="reveal" data-testid="key-secret" role="region" aria-label="New API key">
      <p>
        <strong>Copy the key “{created.key.name}” now. You won't see it again:</strong> Workforce keeps only a hash of it. If you lose it, revoke it
        and create another.
      </p>
      <div className="reveal-row">
        <label htmlFor={id} className="visually-hidden">
          Secret of {created.key.name}
        </label>
        <input id={id} ref={input} className="mono" readOnly value={created.secret} onFocus={(event) => event.currentTarget.select()} />
        <CopyButton text={created.secret} label="Copy key" />
        <button type="button" className="button ghost small" onClick={onDone}>
          Done
        </button>
      </div>
    </div>
  );
}
