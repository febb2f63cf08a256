import { randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";
import { AppError, type SessionHistory, type SessionSummary, type TranscriptEntry, type TranscriptLine } from "@workforce/protocol";
import { ensureContained, ensureTenantRoot, lockOwnersDirPath, type AgentPaths } from "@workforce/protocol/tenant-path";
import { makeDirectory } from "../fs/storage-error";
import { createFileLocks, type FileLocks } from "../fs/file-lock";
import { isNotFound } from "../fs/errno";
import type { Logger } from "../logger";
import { RegistryCache } from "./registry-cache";
import { runLeasePath, SessionRegistry, transcriptLockPath } from "./session-registry";
import { summarizeTranscript, truncate, TITLE_LENGTH } from "./session-summary";
import { appendTranscriptEntries, createTranscript, readTranscript, type Transcript } from "./transcript";

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
}

export const DEFAULT_REGISTRY_CACHE_SIZE = 1_000;

export interface SessionRef {
  tenantId: string;
  agent: string;
}

/** A session ready for a run: its summary and where its transcript lives. */
export interface OpenSession {
  summary: SessionSummary;
  transcriptPath: string;
}

export interface SessionStore {
  list(ref: SessionRef): Promise<SessionSummary[]>;
  /** Throws session_not_found. */
  get(ref: SessionRef, key: string): Promise<SessionSummary>;
  history(ref: SessionRef, key: string): Promise<SessionHistory>;
  rename(ref: SessionRef, key: string, title: string): Promise<SessionSummary>;
  remove(ref: SessionRef, key: string): Promise<void>;
  /** Returns the session for `key`, creating it (transcript header + registry entry) when new. */
  open(ref: SessionRef, key: string | undefined, firstMessage: string): Promise<OpenSession>;
  readTranscript(ref: SessionRef, sessionId: string): Promise<Transcript>;
  /** Appends completed entries (fsynced) and refreshes the registry entry from the transcript. */
  append(ref: SessionRef, key: string, entries: readonly TranscriptEntry[]): Promise<SessionSummary>;
  /**
   * Runs `task` (a run) holding the session's run lease, so runs of one session never overlap, also
   * across gateway processes sharing the data dir. Waits while another process runs in the session.
   */
  withSessionLease<T>(ref: SessionRef, sessionId: string, options: { signal: AbortSignal; timeoutMs: number }, task: () => Promise<T>): Promise<T>;
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

  async function agentPaths(ref: SessionRef): Promise<{ root: string; paths: AgentPaths }> {
    const tenant = await ensureTenantRoot(deps.dataDir, ref.tenantId);
    return { root: tenant.root, paths: tenant.agent(ref.agent) };
  }

  const cacheKey = (ref: SessionRef) => `${ref.tenantId}/${ref.agent}`;
  const refOf = (key: string): SessionRef => {
    const slash = key.indexOf("/");
    return { tenantId: key.slice(0, slash), agent: key.slice(slash + 1) };
  };

  const registries = new RegistryCache<SessionRegistry>({
    maxEntries: deps.registryCacheSize ?? DEFAULT_REGISTRY_CACHE_SIZE,
    load: async (key) => {
      const { root, paths } = await agentPaths(refOf(key));
      await makeDirectory(paths.sessionsDir);
      await ensureContained(root, paths.sessionsDir);
      return SessionRegistry.load(paths, {
        logger: deps.logger,
        locks,
        compactDelayMs: deps.compactDelayMs ?? 2_000,
        minJournalLines: deps.minJournalLines ?? 1_000,
        eagerMaxSessions: deps.eagerMaxSessions ?? 100,
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
    const { root, paths } = await agentPaths(ref);
    const transcript = await readTranscript(await ensureContained(root, paths.transcript(sessionId)));
    if (!transcript) throw new AppError("session_not_found", `the transcript of session ${sessionId} is missing or unreadable`);
    if (transcript.skippedLines.length > 0) {
      deps.logger.warn(`${paths.transcript(sessionId)}: skipped unreadable line(s) ${transcript.skippedLines.join(", ")}`);
    }
    return transcript;
  }

  /**
   * Appends lines to a session's transcript (fsynced) under its lock, then refreshes the registry
   * entry from the transcript before letting go, so the registry never moves backwards.
   */
  const appendLines = (ref: SessionRef, key: string, lines: readonly TranscriptLine[]): Promise<SessionSummary> =>
    withRegistry(ref, async (registry) => {
      const session = registry.get(key);
      if (!session) throw notFound(ref, key);
      const { root, paths } = await agentPaths(ref);
      const transcriptPath = await ensureContained(root, paths.transcript(session.sessionId));
      return locks.run(transcriptLockPath(paths, session.sessionId), async () => {
        try {
          await appendTranscriptEntries(transcriptPath, lines);
        } catch (error) {
          if (isNotFound(error)) throw notFound(ref, key); // deleted meanwhile, maybe by another gateway
          throw error;
        }
        const transcript = await transcriptOf(ref, session.sessionId);
        const updated = await registry.update(key, (current) => (current?.sessionId === session.sessionId ? summarizeTranscript(transcript, current) : undefined));
        if (updated?.sessionId !== session.sessionId) throw notFound(ref, key);
        return updated;
      });
    });

  return {
    list: (ref) => withRegistry(ref, (registry) => registry.list()),

    get: mustGet,

    async history(ref, key) {
      const session = await mustGet(ref, key);
      const transcript = await transcriptOf(ref, session.sessionId);
      return { session, entries: transcript.entries };
    },

    // Recorded in the transcript first, so a registry rebuilt from transcripts keeps the title.
    rename: (ref, key, title) => appendLines(ref, key, [{ type: "session-meta", id: newId(), timestamp: deps.now().toISOString(), title }]),

    remove: (ref, key) =>
      withRegistry(ref, async (registry) => {
        const session = registry.get(key);
        if (!session) throw notFound(ref, key);
        const { root, paths } = await agentPaths(ref);
        const transcriptPath = await ensureContained(root, paths.transcript(session.sessionId));
        await locks.run(transcriptLockPath(paths, session.sessionId), async () => {
          // Transcript first: a crash in between leaves an entry without transcript, which the next load drops.
          await rm(transcriptPath, { force: true });
          await registry.remove(key);
        });
      }),

    open: (ref, key, firstMessage) =>
      withRegistry(ref, async (registry) => {
        const { root, paths } = await agentPaths(ref);
        const sessionId = newId();
        const sessionKey = key ?? sessionId;
        const { session } = await registry.getOrCreate(sessionKey, async () => {
          const at = deps.now().toISOString();
          const transcriptPath = await ensureContained(root, paths.transcript(sessionId));
          // The transcript exists before the registry names it, so a crash never leaves a dangling entry.
          await createTranscript(transcriptPath, { type: "session", version: 1, sessionId, key: sessionKey, agent: ref.agent, createdAt: at });
          return {
            key: sessionKey,
            sessionId,
            title: truncate(firstMessage, TITLE_LENGTH) || "New session",
            createdAt: at,
            updatedAt: at,
            model: null,
            inputTokens: 0,
            outputTokens: 0,
            messageCount: 0,
            lastMessagePreview: "",
          };
        });
        return { summary: session, transcriptPath: await ensureContained(root, paths.transcript(session.sessionId)) };
      }),

    readTranscript: transcriptOf,

    append: (ref, key, entries) => appendLines(ref, key, entries),

    async withSessionLease(ref, sessionId, options, task) {
      const { root, paths } = await agentPaths(ref);
      await ensureContained(root, paths.transcript(sessionId));
      return locks.run(runLeasePath(paths, sessionId), task, options);
    },

    pin: (ref) => registries.pin(cacheKey(ref)),

    forgetAgent(ref) {
      registries.forget(cacheKey(ref));
    },

    forgetTenant: (tenantId) => registries.forgetWhere((key) => refOf(key).tenantId === tenantId),

    flushAll: () => registries.unloadAll(),

    cacheStats: () => registries.stats(),
  };
}
