/**
 * A simulated user of the chaos test: chats with their agent in one session through either
 * platform, one message at a time. Each message carries an idempotency key; a send that fails is
 * retried with the SAME key (on the next platform), a stream that is cut is resumed with
 * Last-Event-ID or rejoined by sending again with the same key, and everything that happened to
 * the message is recorded for the checks.
 */
import { randomUUID } from "node:crypto";
import type { PlatformUser } from "../../bench/lib/targets";
import { followRunStream, newStreamState, type StreamOutcome, type StreamState } from "./run-stream";

export interface ChatUserOptions {
  index: number;
  user: PlatformUser;
  platformUrls: readonly string[];
  sessionKey: string;
  messagePrefix: string;
  /** No new message is started after this time (ms since epoch); the one in flight is finished. */
  endAt: number;
  thinkMs: readonly [number, number];
  /** A stream with no event for this long is stalled (heartbeats do not count). */
  stallMs: number;
  /** Of the cut streams, the share recovered by sending again with the same key instead of resuming. */
  rejoinShare: number;
  /** Attempts (sends + resumes) per message before giving up. */
  maxAttempts: number;
  random: () => number;
}

export type MessageOutcome = "ok" | "interrupted" | "failed" | "stalled" | "gave-up";

export interface MessageRecord {
  user: number;
  tenantId: string;
  sessionKey: string;
  idempotencyKey: string;
  text: string;
  startedAt: number;
  endedAt: number;
  outcome: MessageOutcome;
  /** run-end's or the last refusal's error code. */
  code: string | undefined;
  reply: string;
  runIds: string[];
  sends: number;
  resumes: number;
  /** Streams cut after the run had started (connection closed without run-end). */
  drops: number;
  /** Cut streams recovered by sending again with the same idempotency key. */
  rejoins: number;
  /** Resumes answered run_not_found. */
  notFound: number;
  /** Events delivered twice across resumes. */
  repeatedEvents: number;
  /** What went wrong on the way, in order (refusal codes, cut reasons). */
  trail: string[];
}

/**
 * Finds the chaos message a model request answers in its last user text: the last one there,
 * since a gateway may merge an orphaned user entry (its run died) with the next into one message.
 */
export function answeredMessage(prefix: string, lastUserText: string): string | undefined {
  const pattern = new RegExp(`${prefix} user \\d+ message \\d+ [0-9a-f]{8}`, "g");
  return lastUserText.match(pattern)?.at(-1);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Refusals a client retries (the same key): overload, a gateway going away, a rate limit. */
function retryable(status: number): boolean {
  return status === 0 || status === 408 || status === 409 || status === 425 || status === 429 || status >= 500;
}

/** Sends one message and sees it through to a clear end, or records why it never got one. */
async function deliver(options: ChatUserOptions, text: string): Promise<MessageRecord> {
  const { user } = options;
  const record: MessageRecord = {
    user: options.index,
    tenantId: user.tenantId,
    sessionKey: options.sessionKey,
    idempotencyKey: `chaos-${randomUUID()}`,
    text,
    startedAt: Date.now(),
    endedAt: 0,
    outcome: "gave-up",
    code: undefined,
    reply: "",
    runIds: [],
    sends: 0,
    resumes: 0,
    drops: 0,
    rejoins: 0,
    notFound: 0,
    repeatedEvents: 0,
    trail: [],
  };
  let turn = Math.floor(options.random() * options.platformUrls.length);
  let state: StreamState = newStreamState();
  let resuming = false;
  for (let attempt = 0; attempt < options.maxAttempts; attempt += 1) {
    const platformUrl = options.platformUrls[turn++ % options.platformUrls.length]!;
    let outcome: StreamOutcome;
    if (resuming && state.runId) {
      record.resumes += 1;
      outcome = await followRunStream(`${platformUrl}/api/runs/${state.runId}/events`, { headers: { ...user.headers, accept: "text/event-stream", "last-event-id": String(state.lastSeq) } }, state, options.stallMs);
    } else {
      record.sends += 1;
      record.repeatedEvents += state.repeatedEvents;
      state = newStreamState();
      outcome = await followRunStream(
        `${platformUrl}/api/agents/${user.slug}/messages`,
        {
          method: "POST",
          headers: { ...user.headers, accept: "text/event-stream", "content-type": "application/json" },
          body: JSON.stringify({ message: text, sessionKey: options.sessionKey, idempotencyKey: record.idempotencyKey }),
        },
        state,
        options.stallMs,
      );
    }
    if (state.runId && !record.runIds.includes(state.runId)) record.runIds.push(state.runId);
    if (outcome.kind === "ended") {
      record.outcome = state.end?.status === "ok" ? "ok" : state.end?.code === "run_interrupted" ? "interrupted" : "failed";
      record.code = state.end?.code;
      break;
    }
    if (outcome.kind === "stalled") {
      record.trail.push(`stalled ${options.stallMs} ms${resuming ? " on a resume" : ""}`);
      record.outcome = "stalled";
      break;
    }
    if (outcome.kind === "refused") {
      record.trail.push(`${resuming ? "resume" : "send"} ${outcome.status} ${outcome.code ?? ""}`.trim());
      record.code = outcome.code;
      if (outcome.code === "run_interrupted") {
        record.outcome = "interrupted";
        break;
      }
      if (resuming && outcome.code === "run_not_found") {
        // The run is gone: all a client can do is send again, with the same key.
        record.notFound += 1;
        resuming = false;
      } else if (!retryable(outcome.status)) {
        record.outcome = "failed";
        break;
      }
    } else {
      record.trail.push(`cut: ${outcome.reason}`);
      // Cut once the run had started (X-Run-Id known): resume it with Last-Event-ID, or (as a
      // client that lost the run id does) send the message again with the same key, which must
      // join the same run. Cut before that: send again.
      if (state.runId) {
        record.drops += 1;
        resuming = options.random() >= options.rejoinShare;
        if (!resuming) record.rejoins += 1;
      }
    }
    await sleep(Math.min(2_000, 100 * 2 ** Math.min(attempt, 5)) * (0.5 + options.random()));
  }
  record.repeatedEvents += state.repeatedEvents;
  record.reply = state.text;
  record.endedAt = Date.now();
  return record;
}

/** Chats until `endAt`: a message, a pause, the next message. */
export async function chat(options: ChatUserOptions, onMessage: (record: MessageRecord) => void): Promise<void> {
  let count = 0;
  while (Date.now() < options.endAt) {
    count += 1;
    onMessage(await deliver(options, `${options.messagePrefix} user ${options.index} message ${count} ${randomUUID().slice(0, 8)}`));
    const [least, most] = options.thinkMs;
    await sleep(least + options.random() * (most - least));
  }
}
