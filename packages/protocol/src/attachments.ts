import { z } from "zod";

/**
 * Files sent with a chat message (decision 042): text and images, checked here so the web form,
 * the platform and the gateway refuse the same things with the same words.
 */
export const ATTACHMENT_LIMITS = {
  /** Files per message. */
  maxCount: 4,
  /** Bytes of one file (before base64); Anthropic takes images up to 5 MB, this stays well under. */
  maxBytes: 1024 * 1024,
  /** Characters of a file name. */
  maxNameLength: 120,
} as const;

export const IMAGE_MEDIA_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"] as const;
export const TEXT_MEDIA_TYPES = ["text/plain", "text/markdown", "text/csv", "application/json"] as const;
export const AttachmentMediaType = z.enum([...IMAGE_MEDIA_TYPES, ...TEXT_MEDIA_TYPES], {
  message: "must be an image (PNG, JPEG, GIF, WebP) or a text file (plain text, Markdown, CSV, JSON)",
});
export type AttachmentMediaType = z.infer<typeof AttachmentMediaType>;

export function isImageMediaType(mediaType: string): mediaType is (typeof IMAGE_MEDIA_TYPES)[number] {
  return (IMAGE_MEDIA_TYPES as readonly string[]).includes(mediaType);
}

/** Base64 length of `bytes` bytes (with padding). */
export function base64Length(bytes: number): number {
  return Math.ceil(bytes / 3) * 4;
}

/** Bytes a base64 string decodes to (padding aware; the string is checked by the schema first). */
export function base64Bytes(data: string): number {
  const padding = data.endsWith("==") ? 2 : data.endsWith("=") ? 1 : 0;
  return (data.length / 4) * 3 - padding;
}

/** What a file is called in the chat: one line, no path, no control characters. */
export const AttachmentName = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(ATTACHMENT_LIMITS.maxNameLength, `must be at most ${ATTACHMENT_LIMITS.maxNameLength} characters`)
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  .refine((name) => !/[\u0000-\u001f\u007f/\\]/.test(name), "must not contain slashes or control characters");

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A file as the browser sends it with a message: its bytes in base64. */
export const AttachmentUpload = z.object({
  name: AttachmentName,
  mediaType: AttachmentMediaType,
  data: z
    .string()
    .min(1, "must not be empty")
    .max(base64Length(ATTACHMENT_LIMITS.maxBytes), `must be at most ${ATTACHMENT_LIMITS.maxBytes} bytes`)
    .regex(BASE64, "must be base64"),
});
export type AttachmentUpload = z.infer<typeof AttachmentUpload>;

export const AttachmentUploads = z
  .array(AttachmentUpload)
  .max(ATTACHMENT_LIMITS.maxCount, `at most ${ATTACHMENT_LIMITS.maxCount} files per message`);

/** A stored file as the user's transcript entry names it; the file is `uploads/{id}-{name}` in the agent's workspace. */
export const AttachmentRef = z.object({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  name: AttachmentName,
  mediaType: AttachmentMediaType,
  size: z.number().int().nonnegative(),
});
export type AttachmentRef = z.infer<typeof AttachmentRef>;

/** Where an attachment lives, relative to the agent's workspace (the gateway resolves it with the tenant-path helper). */
export function attachmentWorkspacePath(ref: Pick<AttachmentRef, "id" | "name">): string {
  return `uploads/${ref.id}-${ref.name.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "_")}`;
}

/**
 * The largest body a message with attachments can need (the platform's and the gateway's send
 * routes allow this much; every other route keeps its 1 MiB).
 */
export const MESSAGE_BODY_MAX_BYTES = ATTACHMENT_LIMITS.maxCount * (base64Length(ATTACHMENT_LIMITS.maxBytes) + 1024) + 512 * 1024;

/** The gateway's attachment answer names the file in this header: the AttachmentRef as percent-encoded JSON. */
export const ATTACHMENT_HEADER = "x-workforce-attachment";
