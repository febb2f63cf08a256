import { useId, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { LIMITS, textProblem } from "../errors/limits";

/** The message box: Enter sends, Shift+Enter adds a line; Stop replaces nothing, it sits beside Send while a reply streams. */
export function Composer(props: {
  agentName: string;
  streaming: boolean;
  disabled: boolean;
  /** Why nothing can be sent at all (the organisation is suspended): the box is turned off and says so. */
  locked?: string | undefined;
  onSend: (text: string) => void;
  onStop: () => void;
}) {
  const [text, setText] = useState("");
  const id = useId();
  const textarea = useRef<HTMLTextAreaElement>(null);
  // Checked here, before sending: the server would refuse a longer message.
  const tooLong = textProblem(text, { label: "Your message", max: LIMITS.message });
  const nearLimit = text.length > LIMITS.message * 0.9;
  const canSend = text.trim() !== "" && !tooLong && !props.streaming && !props.disabled && !props.locked;

  function send() {
    if (!canSend) return;
    props.onSend(text.trim());
    setText("");
    textarea.current?.focus();
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      send();
    }
  }

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    send();
  }

  return (
    <form className="composer" onSubmit={submit}>
      <label htmlFor={`${id}-message`} className="visually-hidden">
        Message
      </label>
      <textarea
        id={`${id}-message`}
        ref={textarea}
        data-testid="composer"
        value={text}
        onChange={(event) => setText(event.target.value)}
        onKeyDown={onKeyDown}
        placeholder={props.locked ?? `Message ${props.agentName}…`}
        disabled={props.locked !== undefined}
        rows={1}
        autoFocus={props.locked === undefined}
        aria-describedby={`${id}-hint`}
        aria-invalid={tooLong ? true : undefined}
      />
      <span id={`${id}-hint`} className={tooLong || nearLimit ? "composer-limit small" : "visually-hidden"} data-testid="composer-limit" role={tooLong ? "alert" : undefined}>
        {tooLong ?? (nearLimit ? `${(LIMITS.message - text.length).toLocaleString()} characters left.` : "Enter sends, Shift+Enter starts a new line, Esc stops a reply; press ? outside the box for all shortcuts.")}
      </span>
      <div className="composer-actions">
        {props.streaming ? (
          <button type="button" className="button" onClick={props.onStop} title="Stop (Esc)" aria-keyshortcuts="Escape">
            Stop
          </button>
        ) : null}
        <button type="submit" className="button primary" disabled={!canSend}>
          Send
        </button>
      </div>
    </form>
  );
}
