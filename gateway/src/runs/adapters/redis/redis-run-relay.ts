import { RunEvent, RunInfo } from "@workforce/protocol";
import { z } from "zod";
import { parseJson } from "../../../fs/jsonl-file";
import { describeRedisError, newRedisClient, redactedRedisUrl, type RedisClient } from "../../../coordination/redis-connection";
import type { Logger } from "../../../logger";
import type { RemoteRun, RunEventRelay } from "../../run-relay";

export interface RedisRunRelayOptions {
  /** REDIS_URL: `redis[s]://[[user]:password@]host[:port][/db]`. */
  url: string;
  logger: Logger;
  /** How long a finished run stays replayable (the run manager's retention). */
  retentionMs: number;
  /** Longest a run may take; keys of a live run outlive it by the retention. */
  runTimeoutMs: number;
  /** Namespace of every key and channel (tests use their own). */
  keyPrefix?: string;
  /** How long one blocking read waits before checking that the run still exists. */
  blockMs?: number;
  /**
   * This gateway's cluster identity: recorded in each run's info, and its live runs kept in the
   * set `{prefix}member-runs:{memberId}`, so when it dies the reaper (redis-run-reaper.ts) ends them.
   */
  memberId?: string;
}

const StreamEntry = z.object({ id: z.string(), message: z.object({ tenant: z.string(), event: z.string() }) });
const StreamEntries = z.array(StreamEntry);
const XReadReply = z.array(z.object({ name: z.string(), messages: StreamEntries })).nullable();
export const StoredInfo = z.object({ tenantId: z.string(), info: RunInfo, member: z.string().optional() });
const AbortRequest = z.object({ tenantId: z.string(), runId: z.string() });

/** The runs a member executes (queued or running), by run id. */
export const memberRunsKey = (prefix: string, memberId: string) => `${prefix}member-runs:${memberId}`;
/** Members with such a set: what the reaper looks through. */
export const runMembersKey = (prefix: string) => `${prefix}run-members`;

const newClient = newRedisClient;
type Client = RedisClient;

/**
 * The run relay on Redis. Per run: `{prefix}run:{runId}:info` (status, SET with a TTL) and the
 * stream `{prefix}run:{runId}:events` (one XADD per event, in order, with a TTL), so another
 * gateway replays with XRANGE and follows with a blocking XREAD. Aborts travel on the pub/sub
 * channel `{prefix}run-abort`. Publishing never waits and never queues while Redis is away
 * (commands fail fast and are logged, at most one warning per 30 s): the run itself carries on,
 * it just cannot be served by the other gateways until Redis is back.
 */
export function createRedisRunRelay(options: RedisRunRelayOptions): RunEventRelay {
  const prefix = options.keyPrefix ?? "workforce:";
  const blockMs = options.blockMs ?? 5_000;
  const liveTtlMs = options.runTimeoutMs + options.retentionMs;
  const infoKey = (runId: string) => `${prefix}run:${runId}:info`;
  const eventsKey = (runId: string) => `${prefix}run:${runId}:events`;
  const abortChannel = `${prefix}run-abort`;
  const abortListeners: ((tenantId: string, runId: string) => void)[] = [];
  let lastWarning = 0;

  function warn(message: string, error?: unknown): void {
    if (Date.now() - lastWarning < 30_000) return;
    lastWarning = Date.now();
    options.logger.warn(`run relay (Redis): ${message}${error === undefined ? "" : `: ${describeError(error)}`}`);
  }

  const client = newClient(options.url, (error) => warn("connection problem", error));
  const subscriber = client.duplicate();
  subscriber.on("error", (error: unknown) => warn("subscriber connection problem", error));
  const ready = client.connect().then(
    () => undefined,
    (error: unknown) => warn(`cannot connect to ${redacted(options.url)}`, error),
  );
  const subscribed = subscriber
    .connect()
    .then(() =>
      subscriber.subscribe(abortChannel, (message) => {
        const request = AbortRequest.safeParse(parseJson(message));
        if (request.success) for (const listener of abortListeners) listener(request.data.tenantId, request.data.runId);
      }),
    )
    .catch((error: unknown) => warn("cannot subscribe to abort requests", error));

  /** Waits a little for the first connection (a gateway that just started), never for a Redis that is down. */
  async function connected(): Promise<void> {
    if (client.isReady) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([ready, new Promise<void>((resolve) => (timer = setTimeout(resolve, 2_000)))]);
    clearTimeout(timer);
    if (!client.isReady) throw new Error(`not connected to ${redacted(options.url)}`);
  }

  const fireAndForget = (what: string, task: () => Promise<unknown>) => {
    if (!client.isReady) {
      warn(`not connected; ${what} was not published`);
      return;
    }
    task().catch((error: unknown) => warn(`could not publish ${what}`, error));
  };

  function decode(entries: z.infer<typeof StreamEntries>, tenantId: string): RunEvent[] | undefined {
    const events: RunEvent[] = [];
    for (const entry of entries) {
      if (entry.message.tenant !== tenantId) return undefined;
      const event = RunEvent.safeParse(parseJson(entry.message.event));
      if (event.success) events.push(event.data);
    }
    return events;
  }

  async function* follow(runId: string, tenantId: string, after: number, signal?: AbortSignal): AsyncGenerator<RunEvent> {
    const key = eventsKey(runId);
    let lastId = "0-0";
    let reader: Client | undefined;
    const stop = () => void reader?.destroy();
    signal?.addEventListener("abort", stop, { once: true });
    try {
      for (;;) {
        let entries: z.infer<typeof StreamEntries>;
        if (reader === undefined) {
          // Replay what is there with the shared client; block for more on a connection of our own.
          entries = StreamEntries.parse(await client.xRange(key, lastId === "0-0" ? "-" : `(${lastId}`, "+"));
        } else {
          const reply = XReadReply.parse(await reader.xRead({ key, id: lastId }, { BLOCK: blockMs, COUNT: 1_000 }));
          entries = reply?.[0]?.messages ?? [];
          // A queued run has no stream yet; only when its status is gone too has the run expired.
          if (entries.length === 0 && (await client.exists([key, infoKey(runId)])) === 0) return;
        }
        const events = decode(entries, tenantId) ?? [];
        for (const event of events) {
          if (event.seq > after) yield event;
          if (event.type === "run-end") return;
        }
        lastId = entries.at(-1)?.id ?? lastId;
        if (signal?.aborted) return;
        if (reader === undefined) {
          reader = client.duplicate();
          reader.on("error", (error: unknown) => warn("replay connection problem", error));
          await reader.connect();
        }
      }
    } catch (error) {
      if (signal?.aborted) return;
      throw error;
    } finally {
      signal?.removeEventListener("abort", stop);
      if (reader?.isOpen) reader.destroy();
    }
  }

  return {
    publishInfo(tenantId, info) {
      const ended = info.status !== "queued" && info.status !== "running";
      const member = options.memberId;
      fireAndForget(`the status of run ${info.runId}`, async () => {
        const write = client.multi().set(infoKey(info.runId), JSON.stringify({ tenantId, info, ...(member ? { member } : {}) }), { expiration: { type: "PX", value: ended ? options.retentionMs : liveTtlMs } });
        // Which runs this member executes: what the reaper ends should it die (a set, never a key scan).
        if (member && ended) write.sRem(memberRunsKey(prefix, member), info.runId);
        else if (member) write.sAdd(memberRunsKey(prefix, member), info.runId).sAdd(runMembersKey(prefix), member);
        await write.exec();
      });
    },

    publishEvent(tenantId, event) {
      const key = eventsKey(event.runId);
      fireAndForget(`event ${event.seq} of run ${event.runId}`, async () => {
        await client.xAdd(key, "*", { tenant: tenantId, event: JSON.stringify(event) });
        if (event.type === "run-start") await client.pExpire(key, liveTtlMs);
        if (event.type === "run-end") await client.pExpire(key, options.retentionMs);
      });
    },

    async find(tenantId, runId) {
      await connected();
      const stored = StoredInfo.safeParse(parseJson((await client.get(infoKey(runId))) ?? ""));
      if (!stored.success || stored.data.tenantId !== tenantId) return undefined;
      const info = stored.data.info;
      return { info, follow: (after, signal) => follow(runId, tenantId, after, signal) } satisfies RemoteRun;
    },

    async requestAbort(tenantId, runId) {
      await connected();
      await client.publish(abortChannel, JSON.stringify({ tenantId, runId }));
    },

    onAbortRequest(listener) {
      abortListeners.push(listener);
    },

    async close() {
      for (const connection of [subscriber, client]) {
        // A client still trying to connect is destroyed: close() would wait for Redis to come back.
        if (connection.isReady) await connection.close().catch(() => connection.destroy());
        else if (connection.isOpen) connection.destroy();
      }
      await Promise.allSettled([ready, subscribed]);
    },
  };
}

const redacted = redactedRedisUrl;
const describeError = describeRedisError;
