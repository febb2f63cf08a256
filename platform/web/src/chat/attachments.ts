import { ATTACHMENT_LIMITS, AttachmentName, AttachmentMediaType, isImageMediaType, type AttachmentUpload } from "@workforce/protocol";

/** A file picked, dropped or pasted into the composer, read and checked, waiting to be sent. */
export interface PendingFile {
  key: string;
  upload: AttachmentUpload;
  size: number;
  /** A data URL to show an image before it is sent (the CSP allows `data:` images, not `blob:`). */
  preview?: string | undefined;
}

const BY_EXTENSION: Record<string, AttachmentMediaType> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  md: "text/markdown",
  markdown: "text/markdown",
  csv: "text/csv",
  json: "application/json",
};
/** Text files the browser often types oddly (`.ts` as video, `.log` as nothing): sent as plain text. */
const PLAIN_TEXT = new Set(
  "txt text log ini cfg conf toml yaml yml xml html htm css scss js jsx mjs cjs ts tsx py rb go rs java kt swift c h cc cpp hpp cs php sh bash zsh sql r lua pl tex rst env gitignore dockerfile makefile".split(" "),
);

/** The media type a file is sent as, or undefined when it cannot be attached. */
export function mediaTypeOf(file: Pick<File, "name" | "type">): AttachmentMediaType | undefined {
  const declared = AttachmentMediaType.safeParse(file.type);
  if (declared.success) return declared.data;
  const extension = file.name.includes(".") ? (file.name.split(".").pop() ?? "").toLowerCase() : file.name.toLowerCase();
  if (BY_EXTENSION[extension]) return BY_EXTENSION[extension];
  if (PLAIN_TEXT.has(extension) || file.type.startsWith("text/")) return "text/plain";
  return undefined;
}

/** "1 MB", "340 KB": sizes as people read them. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} bytes`;
}

const LIMIT = formatBytes(ATTACHMENT_LIMITS.maxBytes);

function readAsDataUrl(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => (typeof reader.result === "string" ? resolve(reader.result) : reject(new Error("the file could not be read")));
    reader.onerror = () => reject(reader.error ?? new Error("the file could not be read"));
    reader.readAsDataURL(file);
  });
}

/**
 * Reads files for a message, checking what the server checks (count, size, type, name) so the
 * user hears about a problem before sending, in words. `already` is how many are attached.
 */
export async function readPendingFiles(files: readonly File[], already: number): Promise<{ accepted: PendingFile[]; problems: string[] }> {
  const accepted: PendingFile[] = [];
  const problems: string[] = [];
  for (const file of files) {
    if (already + accepted.length >= ATTACHMENT_LIMITS.maxCount) {
      problems.push(`A message can carry at most ${ATTACHMENT_LIMITS.maxCount} files; "${file.name}" was left out.`);
      continue;
    }
    const mediaType = mediaTypeOf(file);
    if (!mediaType) {
      problems.push(`"${file.name}" can't be attached: only images (PNG, JPEG, GIF, WebP) and text files can.`);
      continue;
    }
    if (file.size > ATTACHMENT_LIMITS.maxBytes) {
      problems.push(`"${file.name}" is larger than ${LIMIT}, the most a file can be.`);
      continue;
    }
    if (file.size === 0) {
      problems.push(`"${file.name}" is empty.`);
      continue;
    }
    const name = AttachmentName.safeParse(file.name.slice(-ATTACHMENT_LIMITS.maxNameLength));
    try {
      const url = await readAsDataUrl(file);
      const data = url.slice(url.indexOf(",") + 1);
      accepted.push({
        key: `${Date.now()}-${already + accepted.length}-${file.name}`,
        upload: { name: name.success ? name.data : "pasted-file", mediaType, data },
        size: file.size,
        ...(isImageMediaType(mediaType) ? { preview: `data:${mediaType};base64,${data}` } : {}),
      });
    } catch {
      problems.push(`"${file.name}" could not be read.`);
    }
  }
  return { accepted, problems };
}

/** A stored attachment's bytes as a data URL, for an `<img>` (fetched with the access token, so not by the browser itself). */
export function blobToDataUrl(blob: Blob): Promise<string> {
  return readAsDataUrl(blob);
}
