import { RunEvent, type RunEndEvent } from "@workforce/protocol";
import { z } from "zod";
import { describeRedisError, newRedisClient, redactedRedisUrl } from "../../../coordination/redis-connection";
import { parseJson } from "../../../fs/jsonl-file";
import type { Logger } from "../../../logger";
import type { InFlightRun } from "../../in-flight-journal";
import { RUN_INTERRUPTED_MESSAGE } from "../../interrupted-runs";
import type { RunReaper } from "../../run-reaper";
import { releaseDeadRunSlot } from "./redis-cluster-slots";
import { memberRunsKey, runMembersKey, StoredInfo } from "./redis-run-relay";

export interface RedisRunReaperOptions {
  /** REDIS_URL. */
  url: string;
  logger: Logger;
  /** This gateway's cluster identity: it never reaps itself. */
  memberId: string;
  /** How long an ended run stays replayable (the run retention). */
  retentionMs: number;
  /** Namespace of every key (tests use their own). */
  keyPrefix?: string;
  /** How often members' liveness is looked at; default 3 s. */
  intervalMs?: number;
  now?: () => Date;
}

const StreamEntries = z.array(z.object({ id: z.string(), message: z.object({ tenant: z.string(), event: z.string() }) }));

/**
 * Ends the runs of gateways that died (cluster mode). The relay keeps each member's live runs in
 * `{p}member-runs:{memberId}` and the members having such a set in `{p}run-members`; every few
 * seconds each gateway checks those members' liveness keys `{p}member:{memberId}` (written with a
 * TTL by the membership heartbeat) and, for a member whose key has expired, ends each of its runs
 * exactly once across gateways (`SET NX` on `{p}run:{runId}:reaped`): a `run-end` error
 * `run_interrupted` appended to the run's event stream and its status set, so every follower on
 * every gateway sees a clear end. Cost per pass: EXISTS + SMEMBERS, plus one EXISTS per member
 * with runs; nothing when membership is not running (`{p}members` absent).
 */
export function createRedisRunReaper(options: RedisRunReaperOptions): RunReaper {
  const prefix = options.keyPrefix ?? "workforce:";
  const now = options.now ?? (() => new Date());
  const listeners: ((run: InFlightRun) => void)[] = [];
  let lastWarning = 0;
  const warn = (message: string, error?: unknown) => {
    if (Date.now() - lastWarning < 30_000) return;
    lastWarning = Date.now();
    options.logger.warn(`run reaper (Redis ${redactedRedisUrl(options.url)}): ${message}${error === undefined ? "" : `: ${describeRedisError(error)}`}`);
  };
  const client = newRedisClient(options.url, (error) => warn("connection problem", error));
  const ready = client.connect().catch((error: unknown) => warn("cannot connect", error));
  const infoKey = (runId: string) => `${prefix}run:${runId}:info`;
  const eventsKey = (runId: string) => `${prefix}run:${runId}:events`;

  function eventOf(entries: unknown, tenantId: string): RunEvent | undefined {
    const entry = StreamEntries.parse(entries)[0];
    if (!entry || entry.message.tenant !== tenantId) return undefined;
    const event = RunEvent.safeParse(parseJson(entry.message.event));
    return event.success ? event.data : undefined;
  }

  async function interrupt(runId: string): Promise<boolean> {
    const won = await client.set(`${prefix}run:${runId}:reaped`, options.memberId, { NX: true, PX: options.retentionMs });
    if (won !== "OK") return false;
    const stored = StoredInfo.safeParse(parseJson((await client.get(infoKey(runId))) ?? ""));
    if (!stored.success) return false;
    const { tenantId, info, member } = stored.data;
    if (info.status !== "queued" && info.status !== "running") return false;
    const last = eventOf(await client.xRevRange(eventsKey(runId), "+", "-", { COUNT: 1 }), tenantId);
    if (last?.type === "run-end") return false;
    const first = eventOf(await client.xRange(eventsKey(runId), "-", "+", { COUNT: 1 }), tenantId);
    const end: RunEndEvent = {
      type: "run-end",
      runId,
      seq: (last?.seq ?? 0) + 1,
      status: "error",
      usage: { inputTokens: 0, outputTokens: 0 },
      error: { code: "run_interrupted", message: RUN_INTERRUPTED_MESSAGE, retryable: true },
      at: now().toISOString(),
    };
    const write = client
      .multi()
      .xAdd(eventsKey(runId), "*", { tenant: tenantId, event: JSON.stringify(end) })
      .pExpire(eventsKey(runId), options.retentionMs)
      .set(infoKey(runId), JSON.stringify({ tenantId, info: { ...info, status: "error", lastSeq: end.seq }, ...(member ? { member } : {}) }), { PX: options.retentionMs });
    if (member) write.sRem(memberRunsKey(prefix, member), runId);
    await write.exec();
    // Its slot is free now, not when the dead gateway's refreshes would have run out.
    await releaseDeadRunSlot(client, prefix, tenantId, runId);
    // A run that had started may have its user's message in the transcript: whoever listens marks it.
    if (first?.type === "run-start") {
      const run: InFlightRun = { runId, tenantId, agent: first.agent, sessionKey: first.sessionKey, sessionId: first.sessionId, model: first.model, at: first.at };
      for (const listener of listeners) listener(run);
    }
    return true;
  }

  async function reap(): Promise<number> {
    await ready;
    if (!client.isReady || (await client.exists(`${prefix}members`)) === 0) return 0;
    const members = (await client.sMembers(runMembersKey(prefix))).filter((member) => member !== options.memberId);
    let ended = 0;
    for (const member of members) {
      if ((await client.exists(`${prefix}member:${member}`)) > 0) continue;
      const runIds = await client.sMembers(memberRunsKey(prefix, member));
      for (const runId of runIds) {
        if (await interrupt(runId)) ended += 1;
      }
      if (runIds.length > 0) await client.sRem(memberRunsKey(prefix, member), runIds);
      if ((await client.sCard(memberRunsKey(prefix, member))) === 0) await client.sRem(runMembersKey(prefix), member);
    }
    if (ended > 0) options.logger.warn(`run reaper: ended ${ended} run(s) of dead gateway(s) run_interrupted`);
    return ended;
  }

  let passing: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    passing ??= reap()
      .catch((error: unknown) => warn("a pass failed", error))
      .finally(() => (passing = undefined));
  }, options.intervalMs ?? 3_000);
  timer.unref();

  return {
    reap,
    async interrupt(runId) {
      await ready;
      return interrupt(runId);
    },
    onReaped(listener) {
      listeners.push(listener);
    },
    async close() {
      clearInterval(timer);
      await passing;
      if (client.isReady) await client.close().catch(() => client.destroy());
      else if (client.isOpen) client.destroy();
    },
  };
}
