import { readFile, unlink } from "node:fs/promises";
import path from "node:path";
import {
  AppError,
  ATTACHMENT_LIMITS,
  attachmentWorkspacePath,
  isImageMediaType,
  type AttachmentRef,
  type AttachmentUpload,
  type TranscriptEntry,
} from "@workforce/protocol";
import { ensureContained, type AgentPaths } from "@workforce/protocol/tenant-path";
import { writeFileAtomic } from "../fs/atomic-write";
import { makeDirectory } from "../fs/storage-error";
import type { ModelContent } from "../llm/model-provider";
import type { ToolDisk } from "../tools/tool";

/** The first bytes each image type starts with: a file must be what its media type says (the provider would refuse it, and the browser would be shown it). */
const SIGNATURES: Record<string, (bytes: Buffer) => boolean> = {
  "image/png": (bytes) => bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  "image/jpeg": (bytes) => bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff,
  "image/gif": (bytes) => bytes.subarray(0, 4).toString("latin1") === "GIF8",
  "image/webp": (bytes) => bytes.subarray(0, 4).toString("latin1") === "RIFF" && bytes.subarray(8, 12).toString("latin1") === "WEBP",
};

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Why a file's bytes do not fit its media type, or undefined when they do. */
function contentProblem(upload: AttachmentUpload, bytes: Buffer): string | undefined {
  if (bytes.length > ATTACHMENT_LIMITS.maxBytes) return `is larger than ${ATTACHMENT_LIMITS.maxBytes} bytes`;
  if (isImageMediaType(upload.mediaType)) return SIGNATURES[upload.mediaType]?.(bytes) ? undefined : `is not a ${upload.mediaType} image`;
  try {
    const text = utf8.decode(bytes);
    return text.includes("\u0000") ? "is not a text file" : undefined;
  } catch {
    return "is not UTF-8 text";
  }
}

/**
 * Checks what the schema cannot: the decoded size, that an image is the image it claims to be and
 * that a text file is UTF-8. Throws validation_failed naming the file; nothing is written.
 */
export function checkAttachmentContents(uploads: readonly AttachmentUpload[]): void {
  for (const [index, upload] of uploads.entries()) {
    const problem = contentProblem(upload, Buffer.from(upload.data, "base64"));
    if (problem) throw new AppError("validation_failed", `attachments.${index}: "${upload.name}" ${problem}`);
  }
}

/**
 * Writes a message's files into the agent's workspace (`uploads/{id}-{name}`), each durable
 * (atomic write, fsync) before the user entry naming them is appended: a crash in between leaves
 * an unreferenced file, never an entry whose file is missing. Paths go through the tenant-path
 * helper and the real-path check; the tenant's disk quota is asked first.
 */
export async function storeAttachments(
  uploads: readonly AttachmentUpload[],
  agent: AgentPaths,
  disk: ToolDisk | undefined,
  newId: () => string,
): Promise<AttachmentRef[]> {
  const files = uploads.map((upload) => ({ upload, bytes: Buffer.from(upload.data, "base64") }));
  await disk?.assertRoom(files.reduce((sum, file) => sum + file.bytes.length, 0));
  const refs: AttachmentRef[] = [];
  for (const { upload, bytes } of files) {
    const ref: AttachmentRef = { id: newId().replace(/[^A-Za-z0-9_-]/g, "").slice(0, 64) || "file", name: upload.name, mediaType: upload.mediaType, size: bytes.length };
    const target = await ensureContained(agent.workspace, agent.workspaceFile(attachmentWorkspacePath(ref)));
    await makeDirectory(path.dirname(target));
    // Re-checked after mkdir: the folder made just now must not be a planted symlink.
    await writeFileAtomic(await ensureContained(agent.workspace, target), bytes);
    disk?.changed(bytes.length);
    refs.push(ref);
  }
  return refs;
}

/** What the model is given for one attachment: an image block, or the text of the file with its name. */
export function attachmentContent(ref: AttachmentRef, bytes: Buffer): ModelContent {
  if (isImageMediaType(ref.mediaType)) return { type: "image", mediaType: ref.mediaType, data: bytes.toString("base64") };
  return { type: "text", text: `Attached file "${ref.name}" (in your workspace as ${attachmentWorkspacePath(ref)}):\n${bytes.toString("utf8")}` };
}

function missingContent(ref: AttachmentRef): ModelContent {
  return { type: "text", text: `[The attached file "${ref.name}" is no longer in the workspace.]` };
}

/** Reads a stored attachment through the tenant-path helper; undefined when it is gone (deleted by a tool, say). */
export async function readAttachment(agent: AgentPaths, ref: AttachmentRef): Promise<Buffer | undefined> {
  try {
    const file = await ensureContained(agent.workspace, agent.workspaceFile(attachmentWorkspacePath(ref)));
    return await readFile(file);
  } catch (error) {
    if (error instanceof AppError && error.code !== "path_escape") return undefined;
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/**
 * The model's content for every attachment the given entries name, read from the workspace: the
 * conversation is rebuilt for every model call, so earlier images are sent again.
 */
export async function loadAttachmentContents(entries: readonly TranscriptEntry[], agent: AgentPaths): Promise<Map<string, ModelContent>> {
  const contents = new Map<string, ModelContent>();
  for (const entry of entries) {
    if (entry.type !== "user") continue;
    for (const ref of entry.attachments ?? []) {
      const bytes = await readAttachment(agent, ref);
      contents.set(ref.id, bytes ? attachmentContent(ref, bytes) : missingContent(ref));
    }
  }
  return contents;
}

/** The content of a user entry's files, in order; without loaded contents (a summary's transcript), only their names. */
export function attachmentsOf(entry: { attachments?: AttachmentRef[] | undefined }, contents: ReadonlyMap<string, ModelContent> | undefined): ModelContent[] {
  return (entry.attachments ?? []).map((ref) => (contents ? (contents.get(ref.id) ?? missingContent(ref)) : { type: "text", text: `[attached file "${ref.name}"]` }));
}

/** Removes a stored attachment (its session was deleted); one already gone is fine. Returns the bytes freed. */
export async function removeAttachment(agent: AgentPaths, ref: AttachmentRef): Promise<number> {
  try {
    await unlink(await ensureContained(agent.workspace, agent.workspaceFile(attachmentWorkspacePath(ref))));
    return ref.size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw error;
  }
}
