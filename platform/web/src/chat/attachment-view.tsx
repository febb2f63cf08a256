import { createContext, useContext, useEffect, useState } from "react";
import { isImageMediaType } from "@workforce/protocol";
import { download } from "../ui/download";
import { blobToDataUrl, formatBytes, type PendingFile } from "./attachments";
import type { ShownAttachment } from "./chat-types";

/** Fetches a stored file of the chat on screen by its id; undefined while the chat has no session yet. */
export type FetchAttachment = ((id: string) => Promise<Blob>) | undefined;

/** Where the shown messages' stored files come from (the chat screen provides it). */
export const AttachmentSource = createContext<FetchAttachment>(undefined);

/** The files waiting in the composer, each with a way to take it out again. */
export function PendingAttachments({ files, onRemove }: { files: readonly PendingFile[]; onRemove: (key: string) => void }) {
  if (files.length === 0) return null;
  return (
    <ul className="attachment-list pending" aria-label="Files to send" data-testid="pending-attachments">
      {files.map((file) => (
        <li key={file.key} className="attachment-chip" data-testid="pending-attachment">
          {file.preview ? <img className="attachment-thumb" src={file.preview} alt="" /> : <FileIcon />}
          <span className="attachment-name" title={file.upload.name}>
            {file.upload.name}
          </span>
          <span className="muted small">{formatBytes(file.size)}</span>
          <button type="button" className="button ghost small" aria-label={`Remove ${file.upload.name}`} onClick={() => onRemove(file.key)}>
            ×
          </button>
        </li>
      ))}
    </ul>
  );
}

/** A sent message's files: images as thumbnails, text files as chips with a download button. */
export function MessageAttachments({ attachments }: { attachments: readonly ShownAttachment[] }) {
  return (
    <ul className="attachment-list" aria-label="Attached files" data-testid="message-attachments">
      {attachments.map((attachment, index) =>
        isImageMediaType(attachment.mediaType) ? (
          <li key={attachment.id ?? index} className="attachment-image">
            <StoredImage attachment={attachment} />
          </li>
        ) : (
          <li key={attachment.id ?? index} className="attachment-chip" data-testid="attachment-file">
            <FileIcon />
            <span className="attachment-name" title={attachment.name}>
              {attachment.name}
            </span>
            <span className="muted small">{formatBytes(attachment.size)}</span>
            <DownloadButton attachment={attachment} />
          </li>
        ),
      )}
    </ul>
  );
}

function useStoredFile(attachment: ShownAttachment) {
  const fetchAttachment = useContext(AttachmentSource);
  const id = attachment.id;
  return fetchAttachment && id ? { fetch: () => fetchAttachment(id) } : undefined;
}

function StoredImage({ attachment }: { attachment: ShownAttachment }) {
  const fetchAttachment = useContext(AttachmentSource);
  const [url, setUrl] = useState<string | undefined>(attachment.preview);
  const [failed, setFailed] = useState(false);
  const id = attachment.id;
  useEffect(() => {
    if (url || !fetchAttachment || !id) return;
    let live = true;
    fetchAttachment(id)
      .then(blobToDataUrl)
      .then((data) => live && setUrl(data))
      .catch(() => live && setFailed(true));
    return () => {
      live = false;
    };
  }, [fetchAttachment, id, url]);
  if (failed) return <span className="attachment-chip muted small">{attachment.name} (no longer available)</span>;
  if (!url) return <span className="attachment-thumb large loading" role="img" aria-label={`${attachment.name}, loading`} />;
  return <img className="attachment-thumb large" src={url} alt={attachment.name} data-testid="attachment-image" />;
}

function DownloadButton({ attachment }: { attachment: ShownAttachment }) {
  const stored = useStoredFile(attachment);
  const [problem, setProblem] = useState<string>();
  if (!stored) return null;
  return (
    <>
      <button
        type="button"
        className="button ghost small"
        aria-label={`Download ${attachment.name}`}
        onClick={() => {
          setProblem(undefined);
          stored
            .fetch()
            .then((blob) => download(attachment.name, blob))
            .catch(() => setProblem("Could not download the file; try again."));
        }}
      >
        Download
      </button>
      {problem ? (
        <span className="error-text small" role="alert">
          {problem}
        </span>
      ) : null}
    </>
  );
}

function FileIcon() {
  return (
    <svg className="attachment-icon" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true">
      <path d="M4 1h5l4 4v10H4z M9 1v4h4" fill="none" stroke="currentColor" strokeWidth="1.2" />
    </svg>
  );
}
