import { randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";
import path from "node:path";
import { AppError, type ApprovalDecisionLine, type ApprovalRequestLine, type SessionHistory, type SessionSummary, type TranscriptEntry, type TranscriptLine } from "@workforce/protocol";
import { ensureContainedIn, lockOwnersDirPath, tenantPaths, TenantRoots, type AgentPaths } from "@workforce/protocol/tenant-path";
import { fileBytes, type DiskGuard } from "../fs/disk-bytes";
import { makeDirectory } from "../fs/storage-error";
import { createFileLeases } from "../coordination/adapters/file-leases";
import type { Lease as Grant, Leases } from "../coordination/leases";
import type { RegistryVersions } from "../coordination/registry-versions";
import { createFileLocks, type FileLocks, type HeldLock } from "../fs/file-lock";
import { KeyedLock } from "../fs/keyed-lock";
import { isNotFound } from "../fs/errno";
import type { Logger } from "../logger";
import { RegistryCache } from "./registry-cache";
import { assertStillHeld, fenceLines, leaseLostError, runLeaseKey, runLeaseLockPath } from "./run-lease";
import { SessionRegistry, transcriptLockPath } from "./session-registry";
import { summarizeAppend, summarizeTranscript, truncate, TITLE_LENGTH } from "./session-summary";
import { appendTranscriptLines, createTranscript, type Transcript } from "./transcript";
import { TranscriptCache } from "./transcript-cache";

export interface SessionStoreDeps {
  dataDir: string;
  logger: Logger;
  now: () => Date;
  newId?: () => string;
  compactDelayMs?: number;
  minJournalLines?: number;
  eagerMaxSessions?: number;
  /** Agent registries kept loaded once idle (least recently used ones are written out and dropped). */
  registryCacheSize?: number;
  /** Cross-process lock files (default); other gateways may share TENANT_DATA_DIR. */
  locks?: FileLocks;
  /**
   * Where runs take their session's lease: Redis leases with fencing tokens in cluster mode
   * (REDIS_URL); by default the session's run lock file over `locks` (one machine, token 0).
   */
  leases?: Leases;
  /**
   * With `leases` (cluster mode): registry writers hold the lease `registry:{tenantId}/{agent}` and
   * fence their writes, and registries catch up by the version kept here instead of stat(), which
   * NFS may serve stale (docs/decisions/026). Without it the registry lock file and stat() serve one host.
   */
  registryVersions?: RegistryVersions;
  /** Tenant roots created and checked once per tenant; shared with the rest of the gateway so erasure forgets them everywhere. */
  tenantRoots?: TenantRoots;
  /**
   * Tenants' disk quotas: renames ask for room, every write reports its bytes. Appends of runs
   * are not refused (the run was admitted under the quota; see docs/decisions/016-disk-quotas.md).
   */
  disk?: DiskGuard;
}

export const DEFAULT_REGISTRY_CACHE_SIZE = 1_000;

/** A run's hold on its session in this process: lines appended whose registry update waits for the run's next append or its end. */
interface Lease {
  key: string | undefined;
  pending: TranscriptLine[];
  /** The run lease as granted: its token fences every line the run appends. */
  grant: Grant;
}

export interface SessionRef {
  tenantId: string;
  agent: string;
}

/** A session ready for a run: its summary and where its transcript lives. */
export interface OpenSession {
  summary: SessionSummary;
  transcriptPath: string;
}

export interface SessionLeaseOptions {
  /** Stops waiting for the lease. */
  signal: AbortSignal;
  timeoutMs: number;
  /** Called (with run_interrupted) when the lease is lost while the task runs: the task must stop, its writes are refused from then on. */
  onLost?: (error: AppError) => void;
  /** Runs inside the lease, before the task, when it was taken over from a holder that died: closes what that holder left cut off. */
  onTakeOver?: () => Promise<void>;
}

export interface SessionStore {
  list(ref: SessionRef): Promise<SessionSummary[]>;
  /** Throws session_not_found. */
  get(ref: SessionRef, key: string): Promise<SessionSummary>;
  history(ref: SessionRef, key: string): Promise<SessionHistory>;
  rename(ref: SessionRef, key: string, title: string): Promise<SessionSummary>;
  /** Records a generated title (decision 043): readers ignore it once the user has named the session. */
  nameGenerated(ref: SessionRef, key: string, title: string): Promise<SessionSummary>;
  remove(ref: SessionRef, key: string): Promise<void>;
  /** Returns the session for `key`, creating it (transcript header + registry entry) when new. */
  open(ref: SessionRef, key: string | undefined, firstMessage: string): Promise<OpenSession>;
  readTranscript(ref: SessionRef, sessionId: string): Promise<Transcript>;
  /**
   * Recounts a session's registry entry from its transcript: after a process died between a
   * run's last append and its registry update. Call it holding the session's run lease, so no
   * run's deferred update is counted twice.
   */
  recount(ref: SessionRef, key: string, sessionId: string): Promise<void>;
  /**
   * Appends completed entries (fsynced) and brings the registry entry up to date. Inside the
   * session's lease (a run), `deferSummary` lets the registry update wait for the run's next
   * append or the end of its lease, saving one registry write per run.
   */
  append(ref: SessionRef, key: string, entries: readonly (TranscriptEntry | ApprovalRequestLine | ApprovalDecisionLine)[], options?: { deferSummary?: boolean }): Promise<SessionSummary>;
  /**
   * Runs `task` (a run) holding the session's run lease, so runs of one session never overlap, also
   * across gateway processes sharing the data dir. Waits while another process runs in the session.
   */
  withSessionLease<T>(ref: SessionRef, sessionId: string, options: SessionLeaseOptions, task: () => Promise<T>): Promise<T>;
  /** Keeps the agent's registry loaded (not evicted) until the returned function is called; runs hold one. */
  pin(ref: SessionRef): Promise<() => void>;
  /** Forgets the cached registry of a deleted agent. */
  forgetAgent(ref: SessionRef): void;
  /** Forgets the cached registries of every agent of an erased tenant (after its runs have ended). */
  forgetTenant(tenantId: string): Promise<void>;
  /** Writes every registry's sessions.json and unloads it; used at shutdown. */
  flushAll(): Promise<void>;
  /** How many agent registries are loaded, pinned, and being written out. */
  cacheStats(): { loaded: number; pinned: number; unloading: number };
}

/**
 * Sessions of every tenant's agents: registries cached in memory (bounded LRU), transcripts on
 * disk. Safe for several gateway processes on one TENANT_DATA_DIR: registry changes happen under
 * the agent's registry lock file, transcript appends under the transcript's lock file, taken in
 * that order (transcript, then registry) so a registry entry never lags behind its transcript
 * except after a crash, which the next load repairs from the lock file left behind.
 */
export function createSessionStore(deps: SessionStoreDeps): SessionStore {
  const newId = deps.newId ?? randomUUID;
  const locks = deps.locks ?? createFileLocks({ logger: deps.logger, ownerDir: lockOwnersDirPath(deps.dataDir) });
  const runLeases = deps.leases ?? createFileLeases({ locks, lockPath: (key) => runLeaseLockPath(deps.dataDir, key) });
  const tenantRoots = deps.tenantRoots ?? new TenantRoots(deps.dataDir);
  /** Runs holding a session lease here, per agent: a registry change made while its agent is otherwise idle rewrites sessions.json. */
  const activeRuns = new Map<string, number>();
  const transcripts = new TranscriptCache({ maxTranscripts: 64, maxBytes: 2 * 1024 * 1024 });
  /** Transcripts whose registry entry may lag (a failed update, a crashed writer's lock taken over): the next update recounts them. */
  const lagging = new Set<string>();
  /** Runs holding their session's lease in this process, by transcript path. */
  const leases = new Map<string, Lease>();
  /** Serialises appends to one transcript within this process; the lock file does it across processes. */
  const appending = new KeyedLock();

  /**
   * The agent's paths under its tenant's checked root. Containment is checked where the sessions
   * directory is loaded (registry load); transcripts inside it are named by lexically checked
   * session ids and opened without following symbolic links, so no realpath is needed per access.
   */
  async function agentPaths(ref: SessionRef): Promise<{ realRoot: string; paths: AgentPaths }> {
    const tenant = await tenantRoots.ensure(ref.tenantId);
    return { realRoot: tenant.realRoot, paths: tenant.paths.agent(ref.agent) };
  }

  const cacheKey = (ref: SessionRef) => `${ref.tenantId}/${ref.agent}`;
  const refOf = (key: string): SessionRef => {
    const slash = key.indexOf("/");
    return { tenantId: key.slice(0, slash), agent: key.slice(slash + 1) };
  };

  const registries = new RegistryCache<SessionRegistry>({
    maxEntries: deps.registryCacheSize ?? DEFAULT_REGISTRY_CACHE_SIZE,
    load: async (key) => {
      const { realRoot, paths } = await agentPaths(refOf(key));
      await makeDirectory(paths.sessionsDir);
      await ensureContainedIn(realRoot, paths.sessionsDir);
      return SessionRegistry.load(paths, {
        logger: deps.logger,
        locks,
        ...(deps.leases && deps.registryVersions ? { cluster: { leases: deps.leases, versions: deps.registryVersions, name: key } } : {}),
        compactDelayMs: deps.compactDelayMs ?? 2_000,
        minJournalLines: deps.minJournalLines ?? 1_000,
        eagerMaxSessions: deps.eagerMaxSessions ?? 100,
        isQuiet: () => (activeRuns.get(key) ?? 0) <= 1,
        onBytesChanged: (bytes) => deps.disk?.changed(refOf(key).tenantId, bytes),
      });
    },
    unload: async (key, registry) => {
      try {
        await registry.flush();
      } catch (error) {
        deps.logger.error(`could not write the session registry of ${key}; its journal keeps the changes`, error);
      } finally {
        registry.close();
      }
    },
    discard: (_key, registry) => registry.close(),
  });

  /** Runs `task` with the agent's registry loaded, caught up with other processes, and pinned so it cannot be evicted meanwhile. */
  const withRegistry = <T>(ref: SessionRef, task: (registry: SessionRegistry) => Promise<T> | T): Promise<T> =>
    registries.use(cacheKey(ref), async (registry) => {
      await registry.sync();
      return task(registry);
    });

  const notFound = (ref: SessionRef, key: string) => new AppError("session_not_found", `no session "${key}" for agent "${ref.agent}"`);

  async function mustGet(ref: SessionRef, key: string): Promise<SessionSummary> {
    const session = await withRegistry(ref, (registry) => registry.get(key));
    if (!session) throw notFound(ref, key);
    return session;
  }

  async function transcriptOf(ref: SessionRef, sessionId: string): Promise<Transcript> {
    const { paths } = await agentPaths(ref);
    const transcript = await transcripts.read(paths.transcript(sessionId));
    if (!transcript) throw new AppError("session_not_found", `the transcript of session ${sessionId} is missing or unreadable`);
    if (transcript.skippedLines.length > 0) {
      deps.logger.warn(`${paths.transcript(sessionId)}: skipped unreadable line(s) ${transcript.skippedLines.join(", ")}`);
    }
    return transcript;
  }

  /**
   * Brings the registry entry of a session up to date with lines appended to its transcript:
   * derived from those lines only, never by re-reading the transcript, except once after a failed
   * update or a crashed writer (`lagging`), or after an edit withdrew messages, when the entry is
 * recounted from the transcript.
   */
  async function updateSummary(registry: SessionRegistry, ref: SessionRef, key: string, sessionId: string, transcriptPath: string, lines: readonly TranscriptLine[]): Promise<SessionSummary> {
    // An edit or regenerate withdrew messages (decision 041): their counts cannot be derived from the new lines.
    const withdrew = lines.some((line) => "replaces" in line && line.replaces !== undefined);
    const transcript = lagging.has(transcriptPath) || withdrew ? await transcriptOf(ref, sessionId) : undefined;
    let updated;
    try {
      updated = await registry.update(key, (current) =>
        current?.sessionId === sessionId ? (transcript ? summarizeTranscript(transcript, current) : summarizeAppend(current, lines)) : undefined,
      );
    } catch (error) {
      lagging.add(transcriptPath);
      throw error;
    }
    lagging.delete(transcriptPath);
    if (updated?.sessionId !== sessionId) throw notFound(ref, key);
    return updated;
  }

  /**
   * Appends lines to a session's transcript (fsynced), then brings the registry entry up to date
   * before letting go, so the registry never moves backwards. A run appends under its session's
   * lease, which already keeps every other run out of the transcript; other writers (a rename, a
   * delete) serialise with it in this process and, elsewhere, append whole lines with O_APPEND,
   * so within a lease the transcript's lock file is not taken. There `deferSummary` leaves the
   * registry update to the run's next append or to the end of its lease (the lease's lock file
   * marks the session for repair should this process die in between).
   */
  const appendLines = (ref: SessionRef, key: string, lines: readonly TranscriptLine[], options: { deferSummary?: boolean } = {}): Promise<SessionSummary> =>
    withRegistry(ref, async (registry) => {
      const session = registry.get(key);
      if (!session) throw notFound(ref, key);
      const { paths } = await agentPaths(ref);
      const transcriptPath = paths.transcript(session.sessionId);
      const lease = leases.get(transcriptPath);
      const write = async (held: HeldLock): Promise<SessionSummary> => {
        if (held.tookOver) lagging.add(transcriptPath);
        const fenced = lease ? await fenceLines(lease.grant, lines) : lines;
        try {
          const appended = await appendTranscriptLines(transcriptPath, fenced);
          if (appended) deps.disk?.changed(ref.tenantId, appended.after - appended.before);
          transcripts.appended(transcriptPath, appended, fenced);
        } catch (error) {
          transcripts.drop(transcriptPath);
          if (isNotFound(error)) throw notFound(ref, key); // deleted meanwhile, maybe by another gateway
          throw error;
        }
        if (!lease) return updateSummary(registry, ref, key, session.sessionId, transcriptPath, lines);
        lease.key = key;
        lease.pending.push(...lines);
        if (options.deferSummary) return summarizeAppend(session, lease.pending);
        return updateSummary(registry, ref, key, session.sessionId, transcriptPath, lease.pending.splice(0));
      };
      return appending.run(transcriptPath, () => (lease ? write({ tookOver: false }) : locks.run(transcriptLockPath(paths, session.sessionId), write)));
    });

  /**
   * Taking a session over from a gateway that crashed or stalled: a session-meta line with the new
   * fence comes first, so a late append of the old holder (a lower fence) is ignored by every reader.
   */
  async function writeFenceMarker(ref: SessionRef, transcriptPath: string, grant: Grant): Promise<void> {
    const marker: TranscriptLine = { type: "session-meta", id: newId(), timestamp: deps.now().toISOString(), fence: grant.token };
    await appending.run(transcriptPath, async () => {
      await assertStillHeld(grant);
      try {
        const appended = await appendTranscriptLines(transcriptPath, [marker]);
        if (appended) deps.disk?.changed(ref.tenantId, appended.after - appended.before);
        transcripts.appended(transcriptPath, appended, [marker]);
      } catch (error) {
        transcripts.drop(transcriptPath);
        if (!isNotFound(error)) throw error; // deleted: the run finds out on its first append
      }
    });
  }

  /** At the end of a run's lease: records the lines whose registry update was deferred. */
  async function settleLease(ref: SessionRef, sessionId: string, transcriptPath: string, lease: Lease): Promise<void> {
    const { key } = lease;
    if (lease.pending.length === 0 || key === undefined) return;
    try {
      await withRegistry(ref, (registry) => appending.run(transcriptPath, () => updateSummary(registry, ref, key, sessionId, transcriptPath, lease.pending.splice(0))));
    } catch (error) {
      deps.logger.warn(`session ${sessionId}: its registry entry could not be updated and will be recounted (${error instanceof Error ? error.message : String(error)})`);
    }
  }

  return {
    list: (ref) => withRegistry(ref, (registry) => registry.list()),

    get: mustGet,

    async history(ref, key) {
      const session = await mustGet(ref, key);
      const transcript = await transcriptOf(ref, session.sessionId);
      return { session, entries: transcript.entries, ...(transcript.pendingApproval ? { pendingApproval: transcript.pendingApproval } : {}) };
    },

    // Recorded in the transcript first, so a registry rebuilt from transcripts keeps the title.
    async rename(ref, key, title) {
      const line: TranscriptLine = { type: "session-meta", id: newId(), timestamp: deps.now().toISOString(), title };
      await deps.disk?.assertRoom(ref.tenantId, Buffer.byteLength(JSON.stringify(line)) + 1);
      return appendLines(ref, key, [line]);
    },

    async nameGenerated(ref, key, title) {
      const line: TranscriptLine = { type: "session-meta", id: newId(), timestamp: deps.now().toISOString(), title, titleSource: "generated" };
      await deps.disk?.assertRoom(ref.tenantId, Buffer.byteLength(JSON.stringify(line)) + 1);
      return appendLines(ref, key, [line]);
    },

    remove: (ref, key) =>
      withRegistry(ref, async (registry) => {
        const session = registry.get(key);
        if (!session) throw notFound(ref, key);
        const { paths } = await agentPaths(ref);
        const transcriptPath = paths.transcript(session.sessionId);
        await appending.run(transcriptPath, () => locks.run(transcriptLockPath(paths, session.sessionId), async () => {
          // Transcript first: a crash in between leaves an entry without transcript, which the next load drops.
          transcripts.drop(transcriptPath);
          const bytes = await fileBytes(transcriptPath);
          await rm(transcriptPath, { force: true });
          deps.disk?.changed(ref.tenantId, -bytes);
          await registry.remove(key);
        }));
      }),

    open: (ref, key, firstMessage) =>
      withRegistry(ref, async (registry) => {
        const { paths } = await agentPaths(ref);
        const sessionId = newId();
        const sessionKey = key ?? sessionId;
        const { session } = await registry.getOrCreate(sessionKey, async () => {
          const at = deps.now().toISOString();
          // Written to a temp file and renamed into place: a symbolic link planted at this name is replaced, never followed.
          const transcriptPath = paths.transcript(sessionId);
          // The transcript exists before the registry names it, so a crash never leaves a dangling entry.
          const written = await createTranscript(transcriptPath, { type: "session", version: 1, sessionId, key: sessionKey, agent: ref.agent, createdAt: at });
          deps.disk?.changed(ref.tenantId, written);
          return {
            key: sessionKey,
            sessionId,
            title: truncate(firstMessage, TITLE_LENGTH) || "New session",
            titleSource: "message",
            createdAt: at,
            updatedAt: at,
            model: null,
            inputTokens: 0,
            outputTokens: 0,
            messageCount: 0,
            lastMessagePreview: "",
          };
        });
        return { summary: session, transcriptPath: paths.transcript(session.sessionId) };
      }),

    readTranscript: transcriptOf,

    async recount(ref, key, sessionId) {
      const { paths } = await agentPaths(ref);
      const transcriptPath = paths.transcript(sessionId);
      lagging.add(transcriptPath);
      await withRegistry(ref, (registry) => appending.run(transcriptPath, () => updateSummary(registry, ref, key, sessionId, transcriptPath, [])));
    },

    append: (ref, key, entries, options) => appendLines(ref, key, entries, options),

    async withSessionLease(ref, sessionId, options, task) {
      const { paths } = await agentPaths(ref);
      const transcriptPath = paths.transcript(sessionId);
      const grant = await runLeases.acquire(runLeaseKey(ref.tenantId, ref.agent, sessionId), options);
      const onLost = () => options.onLost?.(leaseLostError());
      grant.lost.addEventListener("abort", onLost, { once: true });
      const key = cacheKey(ref);
      const lease: Lease = { key: undefined, pending: [], grant };
      try {
        // The previous holder died mid-run: its last lines may not have reached the registry.
        if (grant.tookOver) lagging.add(transcriptPath);
        if (grant.tookOver && grant.token > 0) await writeFenceMarker(ref, transcriptPath, grant);
        leases.set(transcriptPath, lease);
        activeRuns.set(key, (activeRuns.get(key) ?? 0) + 1);
        try {
          if (grant.tookOver) await options.onTakeOver?.();
          return await task();
        } finally {
          leases.delete(transcriptPath);
          const left = (activeRuns.get(key) ?? 1) - 1;
          if (left > 0) activeRuns.set(key, left);
          else activeRuns.delete(key);
          await settleLease(ref, sessionId, transcriptPath, lease);
        }
      } finally {
        grant.lost.removeEventListener("abort", onLost);
        await grant.release();
      }
    },

    pin: (ref) => registries.pin(cacheKey(ref)),

    forgetAgent(ref) {
      registries.forget(cacheKey(ref));
      transcripts.dropUnder(tenantPaths(deps.dataDir, ref.tenantId).agent(ref.agent).sessionsDir + path.sep);
    },

    async forgetTenant(tenantId) {
      tenantRoots.forget(tenantId);
      transcripts.dropUnder(tenantPaths(deps.dataDir, tenantId).root + path.sep);
      await registries.forgetWhere((key) => refOf(key).tenantId === tenantId);
      tenantRoots.forget(tenantId);
    },

    flushAll: () => registries.unloadAll(),

    cacheStats: () => registries.stats(),
  };
}
