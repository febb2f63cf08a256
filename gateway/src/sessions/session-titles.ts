import { randomUUID } from "node:crypto";
import { AppError, type RunIntegrations, type SessionTitleResult, type TranscriptEntry, type UsageRecord } from "@workforce/protocol";
import type { AgentStore } from "../agents/agent-store";
import { KeyedLock } from "../fs/keyed-lock";
import type { Logger } from "../logger";
import type { ModelRouter } from "../llm/model-router";
import type { UsageJournal } from "../metering/usage-journal";
import type { SessionRef, SessionStore } from "./session-store";
import { entryText } from "./session-summary";

/** The longest generated title (characters); longer answers are cut at a word. */
export const GENERATED_TITLE_MAX = 60;
/** The most of the first exchange the model is shown (characters of each side). */
const EXCHANGE_EXCERPT = 2_000;
/** A title is a few words: more output than this is not waited for. */
const TITLE_OUTPUT_TOKENS = 40;
const TITLE_TIMEOUT_MS = 30_000;

/** The system prompt of a title request (exported so test harnesses can tell a title request from a run's). */
export const SESSION_TITLE_PROMPT =
  "You name chat conversations. Reply with a short title for the conversation below: at most six words, in the conversation's language, " +
  "no quotes, no final punctuation, nothing else.";

export interface SessionTitleOptions {
  useModel: boolean;
  integrations?: RunIntegrations | undefined;
  /** On whose behalf (the session's owner): the title's usage is metered as theirs. */
  origin: { userId?: string; apiKeyId?: string };
}

export type SessionTitler = (ref: SessionRef, key: string, options: SessionTitleOptions) => Promise<SessionTitleResult>;

/** Collapses whitespace, drops quotes and final punctuation but a question mark, cuts at a word within `max` characters. */
export function tidyTitle(text: string, max = GENERATED_TITLE_MAX): string {
  const line = (text.split("\n").find((part) => part.trim()) ?? "").replace(/\s+/g, " ").trim();
  const bare = line.replace(/^(title:\s*)/i, "").replace(/^["'“”‘’*#\s]+|["'“”‘’*\s]+$/g, "").replace(/[.!:;,]+$/, "").trim();
  if (bare.length <= max) return bare;
  const cut = bare.slice(0, max);
  const space = cut.lastIndexOf(" ");
  return `${(space > max / 2 ? cut.slice(0, space) : cut).replace(/[.,;:!?-]+$/, "")}…`;
}

/** The title when no model may write one: the first message's first sentence, tidied. */
export function fallbackTitle(firstMessage: string): string {
  const sentence = firstMessage.replace(/\s+/g, " ").trim().split(/(?<=[.!?])\s/)[0] ?? "";
  const tidy = tidyTitle(sentence);
  return tidy ? tidy.charAt(0).toUpperCase() + tidy.slice(1) : "New session";
}

function refusedAsUndefined(error: unknown): undefined {
  if (error instanceof AppError) return undefined;
  throw error;
}

function firstExchange(entries: readonly TranscriptEntry[]): { user: string; assistant: string } | undefined {
  const user = entries.find((entry) => entry.type === "user" && entryText(entry).trim());
  const assistant = entries.find((entry) => entry.type === "assistant" && entryText(entry).trim());
  if (!user || !assistant) return undefined;
  return { user: entryText(user).slice(0, EXCHANGE_EXCERPT), assistant: entryText(assistant).slice(0, EXCHANGE_EXCERPT) };
}

/**
 * Names a session after its first exchange (issue 16, decision 043): a short title from the agent's
 * model, metered like a run (a usage record with `trigger.kind: "title"`), or, when the model is
 * offline, fails or may not be used, the first message's first sentence. Written as a `generated`
 * session-meta line, which readers ignore once the user named the session, so a rename racing it
 * still wins. A session named by the user, or already titled, is kept as it is.
 */
export function createSessionTitler(deps: { agents: AgentStore; sessions: SessionStore; routeModel: ModelRouter; journal: UsageJournal; now: () => Date; logger: Logger }): SessionTitler {
  async function ask(ref: SessionRef, key: string, exchange: { user: string; assistant: string }, options: SessionTitleOptions): Promise<string | undefined> {
    const agent = await deps.agents.get(ref.tenantId, ref.agent);
    // model_key_required (no key of the organisation's, no fallback allowed): the fallback names it.
    const resolved = deps.routeModel(agent.model, options.integrations);
    if (resolved.info.offline) return undefined;
    const queuedAt = deps.now().toISOString();
    let text = "";
    let usage = { inputTokens: 0, outputTokens: 0 };
    let status: UsageRecord["status"] = "ok";
    try {
      const stream = resolved.provider.stream({
        model: resolved.model,
        system: SESSION_TITLE_PROMPT,
        messages: [{ role: "user", content: [{ type: "text", text: `User: ${exchange.user}\n\nAssistant: ${exchange.assistant}` }] }],
        tools: [],
        maxOutputTokens: TITLE_OUTPUT_TOKENS,
        signal: AbortSignal.timeout(TITLE_TIMEOUT_MS),
      });
      for await (const part of stream) {
        if (part.type === "text-delta") text += part.text;
        if (part.type === "finish") usage = { inputTokens: part.usage.inputTokens, outputTokens: part.usage.outputTokens };
      }
    } catch (error) {
      status = "error";
      deps.logger.warn(`session ${ref.agent}/${key}: no title from the model, the first message names it (${error instanceof AppError ? error.code : error instanceof Error ? error.message : String(error)})`);
    }
    const session = await deps.sessions.get(ref, key);
    await deps.journal.append(ref.tenantId, {
      // One record per model call (two gateways may each name the session once): run ids stay unique in the journal.
      runId: `title-${session.sessionId}-${randomUUID()}`,
      agent: ref.agent,
      sessionKey: key,
      source: "http",
      ...options.origin,
      model: resolved.info.id,
      status,
      inputTokens: usage.inputTokens,
      outputTokens: usage.outputTokens,
      queuedAt,
      endedAt: deps.now().toISOString(),
      ...(resolved.keySource ? { keySource: resolved.keySource } : {}),
      trigger: { kind: "title", id: session.sessionId },
    });
    return status === "ok" ? tidyTitle(text) || undefined : undefined;
  }

  // One title step per session at a time here, so two index jobs racing ask the model once.
  const steps = new KeyedLock();
  return (ref, key, options) => steps.run(`${ref.tenantId}/${ref.agent}/${key}`, async () => {
    const session = await deps.sessions.get(ref, key);
    const transcript = await deps.sessions.readTranscript(ref, session.sessionId);
    const exchange = firstExchange(transcript.entries);
    if (transcript.titleSource !== undefined || !exchange) return { session, outcome: "kept" };
    const generated = options.useModel ? await ask(ref, key, exchange, options).catch(refusedAsUndefined) : undefined;
    const named = await deps.sessions.nameGenerated(ref, key, generated ?? fallbackTitle(exchange.user));
    return { session: named, outcome: generated ? "generated" : "fallback" };
  });
}
