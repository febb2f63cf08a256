import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { MessageAttachments } from "./attachment-view";
import { CopyButton } from "../ui/copy-button";
import type { AssistantMessage, UserMessage } from "./chat-types";

/** What a chat lets its reader do with messages; undefined where the chat is read-only or a reply streams. */
export interface MessageActions {
  /** Sends `text` in place of the user message `messageId` (decision 041). */
  onEdit?: ((messageId: string, text: string) => void) | undefined;
  /** A new answer in place of the last reply. */
  onRegenerate?: (() => void) | undefined;
}

/** A message the reader wrote, with Copy and Edit; editing turns the bubble into a form that sends the new text in its place. */
export function UserMessageView({ message, onEdit }: { message: UserMessage; onEdit?: ((messageId: string, text: string) => void) | undefined }) {
  const [editing, setEditing] = useState(false);
  return (
    <li className="message message-user" data-testid="message-user">
      {editing && onEdit ? (
        <EditForm
          initial={message.text}
          onCancel={() => setEditing(false)}
          onSave={(text) => {
            setEditing(false);
            onEdit(message.id, text);
          }}
        />
      ) : (
        <>
          <div className="bubble">
            {message.attachments?.length ? <MessageAttachments attachments={message.attachments} /> : null}
            <p className="plain-text">{message.text}</p>
          </div>
          <div className="message-actions" role="group" aria-label="Message actions">
            <CopyButton text={message.text} label="Copy" className="button ghost small" />
            {onEdit ? (
              <button type="button" className="button ghost small" onClick={() => setEditing(true)}>
                Edit
              </button>
            ) : null}
          </div>
        </>
      )}
    </li>
  );
}

function EditForm({ initial, onSave, onCancel }: { initial: string; onSave: (text: string) => void; onCancel: () => void }) {
  const [text, setText] = useState(initial);
  const id = useId();
  const box = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    const element = box.current;
    element?.focus();
    element?.setSelectionRange(element.value.length, element.value.length);
  }, []);
  const changed = text.trim() !== "" && text.trim() !== initial.trim();

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (changed) onSave(text.trim());
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    // Esc leaves the edit, not the page's Esc (stopping a reply).
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      onCancel();
    } else if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      if (changed) onSave(text.trim());
    }
  }

  return (
    <form className="edit-message" onSubmit={submit} data-testid="edit-message">
      <label htmlFor={`${id}-text`} className="visually-hidden">
        Edit message
      </label>
      <textarea id={`${id}-text`} ref={box} value={text} onChange={(event) => setText(event.target.value)} onKeyDown={onKeyDown} rows={Math.min(8, Math.max(2, text.split("\n").length))} />
      <p className="small muted">The replies after this message are replaced by the answer to the new text.</p>
      <div className="form-actions">
        <button type="button" className="button ghost small" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="button primary small" disabled={!changed}>
          Save and send
        </button>
      </div>
    </form>
  );
}

/** Copy (the reply's text as written, markdown included) and Regenerate, beside a finished reply. */
export function AssistantActions({ message, onRegenerate }: { message: AssistantMessage; onRegenerate?: (() => void) | undefined }) {
  const text = message.parts.flatMap((part) => (part.type === "text" ? [part.text] : [])).join("\n\n");
  if (!text && !onRegenerate) return null;
  return (
    <span className="message-actions" role="group" aria-label="Reply actions">
      {text ? <CopyButton text={text} label="Copy" className="button ghost small" /> : null}
      {onRegenerate ? (
        <button type="button" className="button ghost small" onClick={onRegenerate}>
          Regenerate
        </button>
      ) : null}
    </span>
  );
}
