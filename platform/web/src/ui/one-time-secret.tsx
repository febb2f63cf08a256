import { useEffect, useId, useRef, type ReactNode } from "react";
import { CopyButton } from "./copy-button";

/**
 * A secret shown this once (a new API key, a webhook's signing secret): selected and focused so it
 * is read out, with Copy and Done. `children` says what it is and why it will not be shown again.
 */
export function OneTimeSecret(props: { testId: string; region: string; inputLabel: string; copyLabel: string; secret: string; onDone: () => void; children: ReactNode }) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    input.current?.focus();
    input.current?.select();
  }, [props.secret]);
  return (
    <div className="reveal" data-testid={props.testId} role="region" aria-label={props.region}>
      <p>{props.children}</p>
      <div className="reveal-row">
        <label htmlFor={id} className="visually-hidden">
          {props.inputLabel}
        </label>
        <input id={id} ref={input} className="mono" readOnly value={props.secret} onFocus={(event) => event.currentTarget.select()} />
        <CopyButton text={props.secret} label={props.copyLabel} />
        <button type="button" className="button ghost small" onClick={props.onDone}>
          Done
        </button>
      </div>
    </div>
  );
}
