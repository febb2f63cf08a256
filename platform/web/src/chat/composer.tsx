import { useId, useRef, useState, type ClipboardEvent, type DragEvent, type FormEvent, type KeyboardEvent } from "react";
import { ATTACHMENT_LIMITS, IMAGE_MEDIA_TYPES } from "@workforce/protocol";
import { LIMITS, textProblem } from "../errors/limits";
import { PendingAttachments } from "./attachment-view";
import { readPendingFiles, type PendingFile } from "./attachments";

/**
 * The message box: Enter sends, Shift+Enter adds a line; Stop replaces nothing, it sits beside Send
 * while a reply streams. Files come by the Attach button, dropped on the box or pasted into it
 * (decision 042); they are checked here, before anything is sent.
 */
export function Composer(props: {
  agentName: string;
  streaming: boolean;
  disabled: boolean;
  /** Why nothing can be sent at all (the organisation is suspended): the box is turned off and says so. */
  locked?: string | undefined;
  onSend: (text: string, files: PendingFile[]) => void;
  onStop: () => void;
}) {
  const [text, setText] = useState("");
  const [files, setFiles] = useState<PendingFile[]>([]);
  const [problems, setProblems] = useState<string[]>([]);
  const [dragging, setDragging] = useState(false);
  const id = useId();
  const textarea = useRef<HTMLTextAreaElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  // Checked here, before sending: the server would refuse a longer message.
  const tooLong = textProblem(text, { label: "Your message", max: LIMITS.message });
  const nearLimit = text.length > LIMITS.message * 0.9;
  const canSend = text.trim() !== "" && !tooLong && !props.streaming && !props.disabled && !props.locked;
  const canAttach = props.locked === undefined && !props.disabled;

  function send() {
    if (!canSend) return;
    props.onSend(text.trim(), files);
    setText("");
    setFiles([]);
    setProblems([]);
    textarea.current?.focus();
  }

  async function attach(list: readonly File[]) {
    if (!canAttach || list.length === 0) return;
    const { accepted, problems: found } = await readPendingFiles(list, files.length);
    setFiles((current) => [...current, ...accepted].slice(0, ATTACHMENT_LIMITS.maxCount));
    setProblems(found);
  }

  function onPaste(event: ClipboardEvent<HTMLTextAreaElement>) {
    const pasted = Array.from(event.clipboardData.files);
    if (pasted.length === 0) return;
    event.preventDefault();
    void attach(pasted);
  }

  function onDrop(event: DragEvent<HTMLFormElement>) {
    event.preventDefault();
    setDragging(false);
    void attach(Array.from(event.dataTransfer.files));
  }

  function onDragOver(event: DragEvent<HTMLFormElement>) {
    if (!canAttach || !event.dataTransfer.types.includes("Files")) return;
    event.preventDefault();
    setDragging(true);
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
    <form
      className={`composer${dragging ? " dragging" : ""}`}
      onSubmit={submit}
      onDragOver={onDragOver}
      onDragLeave={() => setDragging(false)}
      onDrop={onDrop}
      data-testid="composer-form"
    >
      <div className="composer-box">
        <PendingAttachments files={files} onRemove={(key) => setFiles((current) => current.filter((file) => file.key !== key))} />
        {problems.length > 0 ? (
          <ul className="composer-problems" role="alert" data-testid="attachment-problems">
            {problems.map((problem) => (
              <li key={problem}>{problem}</li>
            ))}
          </ul>
        ) : null}
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
          onPaste={onPaste}
          placeholder={props.locked ?? (files.length > 0 ? `Say what ${props.agentName} should do with the ${files.length === 1 ? "file" : "files"}…` : `Message ${props.agentName}…`)}
          disabled={props.locked !== undefined}
          rows={1}
          autoFocus={props.locked === undefined}
          aria-describedby={`${id}-hint`}
          aria-invalid={tooLong ? true : undefined}
        />
        <span id={`${id}-hint`} className={tooLong || nearLimit ? "composer-limit small" : "visually-hidden"} data-testid="composer-limit" role={tooLong ? "alert" : undefined}>
          {tooLong ?? (nearLimit ? `${(LIMITS.message - text.length).toLocaleString()} characters left.` : "Enter sends, Shift+Enter starts a new line, Esc stops a reply; files can be attached, dropped here or pasted; press ? outside the box for all shortcuts.")}
        </span>
      </div>
      <input
        ref={fileInput}
        type="file"
        multiple
        hidden
        accept={`${IMAGE_MEDIA_TYPES.join(",")},text/*,.md,.csv,.json,.txt,.log,.yaml,.yml,.ts,.tsx,.js,.py`}
        data-testid="attach-input"
        onChange={(event) => {
          const picked = Array.from(event.currentTarget.files ?? []);
          event.currentTarget.value = "";
          void attach(picked);
        }}
      />
      <div className="composer-actions">
        <button
          type="button"
          className="button ghost attach-button"
          onClick={() => fileInput.current?.click()}
          disabled={!canAttach || files.length >= ATTACHMENT_LIMITS.maxCount}
          aria-label="Attach files"
          title={`Attach images or text files (up to ${ATTACHMENT_LIMITS.maxCount}, 1 MB each)`}
        >
          <svg viewBox="0 0 16 16" width="18" height="18" aria-hidden="true">
            <path d="M11 4.5 6 9.5a1.4 1.4 0 0 0 2 2l5-5a2.8 2.8 0 0 0-4-4l-5 5a4.2 4.2 0 0 0 6 6l4.5-4.5" fill="none" stroke="currentColor" strokeWidth="1.3" strokeLinecap="round" />
          </svg>
        </button>
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
