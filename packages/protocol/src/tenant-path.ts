import { constants as fsConstants, lstatSync } from "node:fs";
import { access, lstat, mkdir, readlink, realpath } from "node:fs/promises";
import path from "node:path";
import { AppError } from "./errors";
import { SLUG_PATTERN, UUID_PATTERN } from "./gateway-api";

/**
 * The one vetted place where paths under TENANT_DATA_DIR are built. Nothing else may join a
 * path from user input. Every function here validates its inputs lexically; `ensureContained`
 * adds the symlink check (real paths) for paths that are about to be read or written.
 */

/** Name of the marker file at the root of TENANT_DATA_DIR (instance id shared by gateway and platform). */
export const DATA_DIR_MARKER = ".workforce-data-dir.json";
const SESSION_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
const MAX_RELATIVE_PATH = 1024;

export function assertTenantId(tenantId: string): string {
  if (!UUID_PATTERN.test(tenantId)) {
    throw new AppError("invalid_tenant_id", "X-Tenant-ID must be a lowercase UUID");
  }
  return tenantId;
}

export function assertSlug(slug: string): string {
  if (!SLUG_PATTERN.test(slug)) {
    throw new AppError("invalid_slug", "agent slug must be 1-64 characters of a-z, 0-9 and '-', starting with a letter or digit");
  }
  return slug;
}

export function assertSessionId(sessionId: string): string {
  if (!SESSION_ID_PATTERN.test(sessionId)) {
    throw new AppError("invalid_session_key", "session id must be letters, digits, '_' or '-'");
  }
  return sessionId;
}

/** The absolute data dir, checked once: relative values are a configuration error, not something to guess. */
export function assertAbsoluteDataDir(dataDir: string): string {
  if (!path.isAbsolute(dataDir)) {
    throw new AppError("invalid_path", `TENANT_DATA_DIR must be an absolute path, got "${dataDir}"`);
  }
  return path.resolve(dataDir);
}

export function dataDirMarkerPath(dataDir: string): string {
  return path.join(assertAbsoluteDataDir(dataDir), DATA_DIR_MARKER);
}

/** Name of the directory at the root of TENANT_DATA_DIR where each gateway process keeps its lock owner file. */
export const LOCK_OWNERS_DIR = ".workforce-locks";

export function lockOwnersDirPath(dataDir: string): string {
  return path.join(assertAbsoluteDataDir(dataDir), LOCK_OWNERS_DIR);
}

/** Name of the directory at the root of TENANT_DATA_DIR where each gateway process journals its runs in flight. */
export const RUN_JOURNALS_DIR = ".workforce-runs";

export function runJournalsDirPath(dataDir: string): string {
  return path.join(assertAbsoluteDataDir(dataDir), RUN_JOURNALS_DIR);
}

/** One process's run journal in that directory; `name` is a token the gateway made (hex), checked here. */
export function runJournalPath(dataDir: string, name: string): string {
  if (!/^[0-9a-f]{8,64}\.jsonl$/.test(name)) throw new AppError("invalid_path", "not a run journal name");
  return path.join(runJournalsDirPath(dataDir), name);
}

/**
 * Checks a path a tool or client gave relative to some root (e.g. an agent workspace) and
 * returns it in normalised form. Rejects absolute paths, `..` segments (also percent-encoded or
 * written with look-alike Unicode), NUL and control characters, and backslashes.
 */
export function checkRelativePath(relativePath: string): string {
  const fail = (why: string): never => {
    throw new AppError("invalid_path", `path "${printable(relativePath)}" is not allowed: ${why}`);
  };
  if (typeof relativePath !== "string" || relativePath.length === 0) fail("it is empty");
  if (relativePath.length > MAX_RELATIVE_PATH) fail("it is too long");
  // eslint-disable-next-line no-control-regex -- rejecting control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(relativePath)) fail("it contains control characters");
  if (relativePath.includes("\\")) fail("use '/' as the separator");
  if (/%[0-9a-f]{2}/i.test(relativePath)) fail("percent-encoded characters are not allowed");
  const folded = relativePath.normalize("NFKC");
  if (folded !== relativePath.normalize("NFC")) fail("it contains look-alike Unicode characters");
  if (path.posix.isAbsolute(relativePath) || /^[A-Za-z]:/.test(relativePath)) fail("it must be relative");
  const segments = relativePath.split("/").filter((segment) => segment !== "" && segment !== ".");
  if (segments.some((segment) => segment === "..")) fail("'..' is not allowed");
  if (segments.length === 0) fail("it names no file");
  return segments.join("/");
}

function printable(value: string): string {
  // eslint-disable-next-line no-control-regex -- make control characters visible in messages
  return String(value).slice(0, 200).replace(/[\u0000-\u001f\u007f]/g, "?");
}

export interface AgentPaths {
  slug: string;
  /** {tenant}/agents/{slug} */
  dir: string;
  /** {tenant}/agents/{slug}/sessions */
  sessionsDir: string;
  /** {tenant}/agents/{slug}/sessions/sessions.json */
  registry: string;
  /** {tenant}/agents/{slug}/sessions/sessions.journal.jsonl: registry changes since sessions.json was written */
  registryJournal: string;
  /** {tenant}/agents/{slug}/sessions/.lock */
  lock: string;
  /** {tenant}/workspace/{slug} */
  workspace: string;
  /** {tenant}/agents/{slug}/sessions/{sessionId}.jsonl */
  transcript(sessionId: string): string;
  /** A file inside the agent's workspace, checked lexically. Call `ensureContained` before touching it. */
  workspaceFile(relativePath: string): string;
}

export interface TenantPaths {
  tenantId: string;
  /** {dataDir}/{tenant} */
  root: string;
  /** {tenant}/config.json */
  config: string;
  /** {tenant}/limits.json: the policy the platform pushed (limits, suspension) */
  policy: string;
  /** {tenant}/usage.jsonl: one line per run the gateways executed (metering journal) */
  usageJournal: string;
  /** {tenant}/agents */
  agentsDir: string;
  /** {tenant}/workspace */
  workspaceDir: string;
  agent(slug: string): AgentPaths;
}

/** Paths of one tenant. Throws AppError for an invalid tenant id, slug or session id. */
export function tenantPaths(dataDir: string, tenantId: string): TenantPaths {
  const base = assertAbsoluteDataDir(dataDir);
  const root = path.join(base, assertTenantId(tenantId));
  const agentsDir = path.join(root, "agents");
  const workspaceDir = path.join(root, "workspace");
  return {
    tenantId,
    root,
    config: path.join(root, "config.json"),
    policy: path.join(root, "limits.json"),
    usageJournal: path.join(root, "usage.jsonl"),
    agentsDir,
    workspaceDir,
    agent(slug) {
      const checked = assertSlug(slug);
      const dir = path.join(agentsDir, checked);
      const sessionsDir = path.join(dir, "sessions");
      const workspace = path.join(workspaceDir, checked);
      return {
        slug: checked,
        dir,
        sessionsDir,
        registry: path.join(sessionsDir, "sessions.json"),
        registryJournal: path.join(sessionsDir, "sessions.journal.jsonl"),
        lock: path.join(sessionsDir, ".lock"),
        workspace,
        transcript: (sessionId) => path.join(sessionsDir, `${assertSessionId(sessionId)}.jsonl`),
        workspaceFile: (relativePath) => path.join(workspace, checkRelativePath(relativePath)),
      };
    },
  };
}

/**
 * Symlink-escape check: resolves the real path of `target` (or of its deepest existing
 * ancestor, for files about to be created) and requires it to stay inside the real path of
 * `root`. Call it right before reading or writing a path built from user input.
 */
export async function ensureContained(root: string, target: string): Promise<string> {
  return ensureContainedIn(await realpath(root), target);
}

/** `ensureContained` for a root whose real path is already known (see `TenantRoots`): one realpath instead of two. */
export async function ensureContainedIn(realRoot: string, target: string): Promise<string> {
  let probe = target;
  const rest: string[] = [];
  let links = 0;
  for (;;) {
    try {
      const real = await realpath(probe);
      const resolved = path.join(real, ...rest.reverse());
      if (resolved !== realRoot && !resolved.startsWith(realRoot + path.sep)) {
        throw new AppError("path_escape", "path resolves outside the tenant's directory");
      }
      return resolved;
    } catch (error) {
      if (error instanceof AppError) throw error;
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      // A dangling symlink is not "a file not created yet": writing through it would create its
      // target, wherever that is. Follow it and check where it leads instead.
      const dangling = await danglingLinkTarget(probe);
      if (dangling !== undefined) {
        links += 1;
        if (links > MAX_LINK_HOPS) throw new AppError("path_escape", "path goes through too many symbolic links");
        probe = dangling;
        continue;
      }
      const parent = path.dirname(probe);
      if (parent === probe) throw new AppError("path_escape", "path has no existing ancestor");
      rest.push(path.basename(probe));
      probe = parent;
    }
  }
}

const MAX_LINK_HOPS = 40;

/** Where `probe` points when it is a symbolic link (absolute), or undefined when it is not one. */
async function danglingLinkTarget(probe: string): Promise<string | undefined> {
  try {
    const stats = await lstat(probe);
    if (!stats.isSymbolicLink()) return undefined;
    return path.resolve(path.dirname(probe), await readlink(probe));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/**
 * Creates the tenant's root directory (owner-only) on first use and returns its paths. The root
 * must be a directory of its own at its place: a symlink to anywhere else (outside the data dir,
 * or another tenant's directory) is refused with path_escape.
 */
export async function ensureTenantRoot(dataDir: string, tenantId: string): Promise<TenantPaths> {
  const paths = tenantPaths(dataDir, tenantId);
  await mkdir(paths.root, { recursive: true, mode: 0o700 });
  await checkTenantRoot(dataDir, paths);
  return paths;
}

/**
 * The real path of an existing tenant root, which must be exactly `{real data dir}/{tenant}`
 * (path_escape otherwise). Rejects with the file system's ENOENT when there is no such directory.
 */
async function checkTenantRoot(dataDir: string, paths: TenantPaths): Promise<string> {
  const realDataDir = await realpath(assertAbsoluteDataDir(dataDir));
  const realRoot = await realpath(paths.root);
  if (realRoot !== path.join(realDataDir, paths.tenantId)) throw new AppError("path_escape", "the tenant's directory resolves to another location");
  return realRoot;
}

/** True when `dir` is a directory itself, not a symlink to one. */
function isRealDirectory(dir: string): boolean {
  try {
    return lstatSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/** A tenant whose root directory exists and has been checked, with that root's real path. */
export interface ResolvedTenant {
  paths: TenantPaths;
  /** The real path of `paths.root`, for `ensureContainedIn`. */
  realRoot: string;
}

/**
 * `ensureTenantRoot` once per tenant instead of on every request (it is a mkdir and a realpath
 * of every level of the path). Forget a tenant whose directory is erased, so the next request
 * creates and checks it again instead of trusting a directory that is gone. Bounded: the least
 * recently used tenants are dropped beyond `maxTenants`.
 */
export class TenantRoots {
  private readonly resolved = new Map<string, { pending: Promise<ResolvedTenant>; ready?: ResolvedTenant }>();

  constructor(
    private readonly dataDir: string,
    private readonly maxTenants = 10_000,
    /**
     * Throws when TENANT_DATA_DIR is no longer the directory the service started on (a volume
     * removed or unmounted): a tenant directory is never created into an empty stand-in.
     */
    private readonly checkDataDir?: () => void,
  ) {}

  /**
   * The tenant's checked root, creating it on first use. Throws AppError for an invalid tenant id.
   * A cached root is confirmed with one stat, so a directory removed behind the cache's back
   * (another gateway erasing the tenant, a hand clean-up) is created and checked again.
   */
  ensure(tenantId: string): Promise<ResolvedTenant> {
    const cached = this.resolved.get(tenantId);
    if (cached) {
      this.resolved.delete(tenantId);
      if (!cached.ready || isRealDirectory(cached.ready.paths.root)) {
        this.resolved.set(tenantId, cached);
        return cached.pending;
      }
    }
    const entry: { pending: Promise<ResolvedTenant>; ready?: ResolvedTenant } = { pending: this.resolve(tenantId) };
    void entry.pending.then((ready) => (entry.ready = ready), () => undefined);
    this.resolved.set(tenantId, entry);
    entry.pending.catch(() => {
      if (this.resolved.get(tenantId) === entry) this.resolved.delete(tenantId);
    });
    for (const key of this.resolved.keys()) {
      if (this.resolved.size <= this.maxTenants) break;
      this.resolved.delete(key);
    }
    return entry.pending;
  }

  /**
   * The tenant's checked root when its directory exists, without creating it: for reads, which
   * must neither create a tenant nor read through a root that resolves elsewhere (path_escape).
   */
  async existing(tenantId: string): Promise<ResolvedTenant | undefined> {
    const ready = this.resolved.get(tenantId)?.ready;
    if (ready && isRealDirectory(ready.paths.root)) return ready;
    const paths = tenantPaths(this.dataDir, tenantId);
    try {
      return { paths, realRoot: await checkTenantRoot(this.dataDir, paths) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }

  /**
   * `file` (a path in the tenant's directory) once it resolves inside the tenant's existing,
   * checked root (path_escape otherwise); undefined when the tenant has no directory.
   */
  async existingFile(tenantId: string, file: string): Promise<string | undefined> {
    const tenant = await this.existing(tenantId);
    if (!tenant) return undefined;
    // A regular file (not a link), or no file at all, right in the checked root cannot resolve
    // anywhere else: one lstat instead of a realpath walk (config.json, limits.json and
    // usage.jsonl are looked up on every run). Anything else (a link, a directory, a deeper
    // path) takes the full check.
    if (path.dirname(file) === tenant.paths.root) {
      const stats = lstatSync(file, { throwIfNoEntry: false });
      if (stats === undefined || stats.isFile()) return file;
    }
    await ensureContainedIn(tenant.realRoot, file);
    return file;
  }

  private async resolve(tenantId: string): Promise<ResolvedTenant> {
    this.checkDataDir?.();
    const paths = await ensureTenantRoot(this.dataDir, tenantId);
    return { paths, realRoot: await checkTenantRoot(this.dataDir, paths) };
  }

  /** Drops what is known about the tenant's directory (it is being erased). */
  forget(tenantId: string): void {
    this.resolved.delete(tenantId);
  }
}

/** True when `dir` exists and this process can write into it. */
export async function isWritableDir(dir: string): Promise<boolean> {
  try {
    await access(dir, fsConstants.W_OK);
    return true;
  } catch {
    return false;
  }
}
