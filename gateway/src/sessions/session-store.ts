import { randomUUID } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import { AppError, type SessionHistory, type SessionSummary, type TranscriptEntry } from "@workforce/protocol";
import { ensureContained, ensureTenantRoot, type AgentPaths } from "@workforce/protocol/tenant-path";
import type { Logger } from "../logger";
import { SessionRegistry } from "./session-registry";
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
  /** Forgets the cached registry of a deleted agent. */
  forgetAgent(ref: SessionRef): void;
  /** Writes every registry's sessions.json; used at shutdown. */
  flushAll(): Promise<void>;
}

/** Sessions of every tenant's agents: registries cached in memory, transcripts on disk. */
export function createSessionStore(deps: SessionStoreDeps): SessionStore {
  const registries = new Map<string, Promise<SessionRegistry>>();
  const newId = deps.newId ?? randomUUID;

  async function agentPaths(ref: SessionRef): Promise<{ root: string; paths: AgentPaths }> {
    const tenant = await ensureTenantRoot(deps.dataDir, ref.tenantId);
    return { root: tenant.root, paths: tenant.agent(ref.agent) };
  }

  async function registryFor(ref: SessionRef): Promise<SessionRegistry> {
    const cacheKey = `${ref.tenantId}/${ref.agent}`;
    let registry = registries.get(cacheKey);
    if (!registry) {
      registry = (async () => {
        const { root, paths } = await agentPaths(ref);
        await mkdir(paths.sessionsDir, { recursive: true, mode: 0o700 });
        await ensureContained(root, paths.sessionsDir);
        return SessionRegistry.load(paths, {
          logger: deps.logger,
          compactDelayMs: deps.compactDelayMs ?? 2_000,
          minJournalLines: deps.minJournalLines ?? 1_000,
          eagerMaxSessions: deps.eagerMaxSessions ?? 100,
        });
      })();
      registries.set(cacheKey, registry);
      registry.catch(() => registries.delete(cacheKey));
    }
    return registry;
  }

  async function mustGet(ref: SessionRef, key: string): Promise<SessionSummary> {
    const session = (await registryFor(ref)).get(key);
    if (!session) throw new AppError("session_not_found", `no session "${key}" for agent "${ref.agent}"`);
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

  return {
    async list(ref) {
      return (await registryFor(ref)).list();
    },

    get: mustGet,

    async history(ref, key) {
      const session = await mustGet(ref, key);
      const transcript = await transcriptOf(ref, session.sessionId);
      return { session, entries: transcript.entries };
    },

    async rename(ref, key, title) {
      await mustGet(ref, key);
      const registry = await registryFor(ref);
      const updated = await registry.update(key, (current) => current && { ...current, title });
      if (!updated) throw new AppError("session_not_found", `no session "${key}" for agent "${ref.agent}"`);
      return updated;
    },

    async remove(ref, key) {
      const registry = await registryFor(ref);
      const removed = await registry.remove(key);
      if (!removed) throw new AppError("session_not_found", `no session "${key}" for agent "${ref.agent}"`);
      const { root, paths } = await agentPaths(ref);
      await rm(await ensureContained(root, paths.transcript(removed.sessionId)), { force: true });
    },

    async open(ref, key, firstMessage) {
      const registry = await registryFor(ref);
      const { root, paths } = await agentPaths(ref);
      const existing = key === undefined ? undefined : registry.get(key);
      if (existing) return { summary: existing, transcriptPath: await ensureContained(root, paths.transcript(existing.sessionId)) };
      const sessionId = newId();
      const sessionKey = key ?? sessionId;
      const at = deps.now().toISOString();
      const transcriptPath = await ensureContained(root, paths.transcript(sessionId));
      // The transcript exists before the registry names it, so a crash never leaves a dangling entry.
      await createTranscript(transcriptPath, { type: "session", version: 1, sessionId, key: sessionKey, agent: ref.agent, createdAt: at });
      const summary: SessionSummary = {
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
      await registry.update(sessionKey, () => summary);
      return { summary, transcriptPath };
    },

    readTranscript: transcriptOf,

    async append(ref, key, entries) {
      const session = await mustGet(ref, key);
      const { root, paths } = await agentPaths(ref);
      await appendTranscriptEntries(await ensureContained(root, paths.transcript(session.sessionId)), entries);
      const transcript = await transcriptOf(ref, session.sessionId);
      const registry = await registryFor(ref);
      const updated = await registry.update(key, (current) => summarizeTranscript(transcript, current));
      if (!updated) throw new AppError("internal_error", "session registry update failed");
      return updated;
    },

    forgetAgent(ref) {
      const cacheKey = `${ref.tenantId}/${ref.agent}`;
      const registry = registries.get(cacheKey);
      registries.delete(cacheKey);
      registry?.then((loaded) => loaded.close()).catch(() => undefined);
    },

    async flushAll() {
      for (const registry of registries.values()) {
        try {
          const loaded = await registry;
          await loaded.flush();
          loaded.close();
        } catch (error) {
          deps.logger.error("could not flush a session registry", error);
        }
      }
    },
  };
}
