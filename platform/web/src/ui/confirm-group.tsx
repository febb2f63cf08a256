import { useEffect, useRef, type ReactNode } from "react";

/**
 * An inline "are you sure?" step: the question, a danger button and Cancel. Focus moves to Cancel
 * when it appears, so Enter never confirms by accident; Cancel or Escape hand focus back to
 * whatever opened it.
 */
export function ConfirmGroup(props: { label: string; confirmLabel: string; busy?: boolean; onConfirm: () => void; onCancel: () => void; children: ReactNode }) {
  const cancel = useRef<HTMLButtonElement>(null);
  const opener = useRef<Element | null>(null);
  useEffect(() => {
    opener.current = document.activeElement;
    cancel.current?.focus();
  }, []);

  function close() {
    props.onCancel();
    const previous = opener.current;
    if (previous instanceof HTMLElement && previous.isConnected) previous.focus();
  }

  return (
    <div
      className="confirm"
      role="group"
      aria-label={props.label}
      onKeyDown={(event) => {
        if (event.key === "Escape") close();
      }}
    >
      <p>{props.children}</p>
      <div className="button-row">
        <button type="button" className="button danger small" disabled={props.busy} onClick={props.onConfirm}>
          {props.confirmLabel}
        </button>
        <button type="button" className="button ghost small" ref={cancel} onClick={close}>
          Cancel
        </button>
      </div>
    </div>
  );
}
