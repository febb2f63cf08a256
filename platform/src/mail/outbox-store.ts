import { randomBytes } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, rm } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";

/**
 * The outbox on disk: for each mail `<id>.eml` (the RFC 5322 message) and `<id>.json` (the
 * sidecar the outbox page reads). Ids start with the UTC time to the millisecond, so names sort
 * by time, and end in random hex, so processes sharing the directory never pick the same one.
 */
export const OUTBOX_ID_PATTERN = /^\d{8}T\d{9}Z-[0-9a-f]{12}$/;
const SIDECAR_NAME = /^(\d{8}T\d{9}Z-[0-9a-f]{12})\.json$/;

/** The sidecar, checked whenever it is read back: the directory is shared, files may be anything. */
export const OutboxEntry = z.object({
  id: z.string().regex(OUTBOX_ID_PATTERN),
  to: z.string(),
  subject: z.string(),
  text: z.string(),
  html: z.string(),
  createdAt: z.iso.datetime(),
});
export type OutboxEntry = z.infer<typeof OutboxEntry>;

/** A new id for a mail written at `date`: "20261120T092843123Z-3f9a1c2b7d4e". */
export function newOutboxId(date: Date): string {
  const stamp = date.toISOString().replace(/[-:.]/g, "");
  return `${stamp}-${randomBytes(6).toString("hex")}`;
}

export function isOutboxId(value: string): boolean {
  return OUTBOX_ID_PATTERN.test(value);
}

/** The two files of one mail; only ever called with an id that matched OUTBOX_ID_PATTERN. */
function filesOf(dir: string, id: string) {
  if (!isOutboxId(id)) throw new Error(`not an outbox id: ${JSON.stringify(id)}`);
  return { eml: path.join(dir, `${id}.eml`), json: path.join(dir, `${id}.json`) };
}

/** Creates the outbox directory, readable by its owner only, if it is not there yet. */
export async function ensureOutboxDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
}

/**
 * Writes a file so readers see all of it or nothing: a private temporary file in the same
 * directory, flushed to disk, then renamed into place. Temporary names start with a dot and carry
 * random hex, so concurrent writers and the listing never see each other's half-written files.
 */
async function writeAtomically(target: string, data: string | Buffer): Promise<void> {
  const temporary = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const handle = await open(temporary, "wx", 0o600);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Flushes the directory entry of the renames; some platforms cannot open a directory, which is fine there. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r").catch(() => undefined);
  if (!handle) return;
  try {
    await handle.sync();
  } catch {
    // EINVAL/EPERM on filesystems without directory fsync: the files themselves were synced.
  } finally {
    await handle.close();
  }
}

/** Stores one mail: the .eml first, then the sidecar, so a listed mail always has its .eml. */
export async function writeOutboxMail(dir: string, entry: OutboxEntry, eml: Buffer): Promise<void> {
  await ensureOutboxDir(dir);
  const files = filesOf(dir, entry.id);
  await writeAtomically(files.eml, eml);
  await writeAtomically(files.json, `${JSON.stringify(entry, null, 2)}\n`);
  await syncDir(dir);
}

const missing = (error: unknown) => (error as NodeJS.ErrnoException).code === "ENOENT";

/** The newest mails first, at most `limit`; unreadable or foreign sidecars are skipped. */
export async function listOutbox(dir: string, limit = 200): Promise<{ entries: OutboxEntry[]; total: number }> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if (missing(error)) return { entries: [], total: 0 };
    throw error;
  }
  const ids = names.flatMap((name) => SIDECAR_NAME.exec(name)?.[1] ?? []).sort().reverse();
  const entries = await Promise.all(ids.slice(0, limit).map((id) => readOutboxEntry(dir, id)));
  return { entries: entries.filter((entry) => entry !== undefined), total: ids.length };
}

/** One mail's sidecar, or undefined when there is no such mail (or its sidecar is not ours). */
export async function readOutboxEntry(dir: string, id: string): Promise<OutboxEntry | undefined> {
  let raw: string;
  try {
    raw = await readFile(filesOf(dir, id).json, "utf8");
  } catch (error) {
    if (missing(error)) return undefined;
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const parsed = OutboxEntry.safeParse(json);
  return parsed.success && parsed.data.id === id ? parsed.data : undefined;
}

/** One mail's raw .eml, or undefined when there is none. */
export async function readOutboxEml(dir: string, id: string): Promise<Buffer | undefined> {
  try {
    return await readFile(filesOf(dir, id).eml);
  } catch (error) {
    if (missing(error)) return undefined;
    throw error;
  }
}
