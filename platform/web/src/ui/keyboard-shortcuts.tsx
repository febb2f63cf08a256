import { useEffect, useId, useRef } from "react";

/** The shortcuts the app has, as the dialog lists them. */
export const SHORTCUTS: { keys: string[][]; what: string }[] = [
  { keys: [["Enter"]], what: "Send the message" },
  { keys: [["Shift", "Enter"]], what: "Start a new line in the message" },
  { keys: [["Esc"]], what: "Stop the reply being written; cancel an edit; close a dialog" },
  { keys: [["?"]], what: "Show these shortcuts" },
];

/** Whether a key press is typing (in a text field), where `?` is a character, not a shortcut. */
function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement || (target instanceof HTMLInputElement && !["checkbox", "radio", "button", "submit"].includes(target.type));
}

/** `?` (outside a text field) opens a dialog listing the keyboard shortcuts; Esc or Close shuts it. */
export function KeyboardShortcuts() {
  const dialog = useRef<HTMLDialogElement>(null);
  const id = useId();
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.key !== "?" || event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented || isTyping(event.target)) return;
      const element = dialog.current;
      if (!element || element.open) return;
      event.preventDefault();
      element.showModal();
    };
    window.addEventListener("keydown", onKeyDown);
    return () => window.removeEventListener("keydown", onKeyDown);
  }, []);
  return (
    <dialog ref={dialog} className="shortcuts-dialog" aria-labelledby={`${id}-title`} data-testid="shortcuts-dialog">
      <h2 id={`${id}-title`}>Keyboard shortcuts</h2>
      <dl>
        {SHORTCUTS.map((shortcut) => (
          <div key={shortcut.what} className="shortcut">
            <dt>
              {shortcut.keys.map((combination) =>
                combination.map((key, index) => (
                  <span key={key}>
                    {index > 0 ? " + " : null}
                    <kbd>{key}</kbd>
                  </span>
                )),
              )}
            </dt>
            <dd>{shortcut.what}</dd>
          </div>
        ))}
      </dl>
      <form method="dialog">
        <button type="submit" className="button">
          Close
        </button>
      </form>
    </dialog>
  );
}
