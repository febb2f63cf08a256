/**
 * Opens many live SSE streams through the platform: each is a real chat run whose reply (fake
 * upstream magic token) sends one token and then stalls for an hour, so the stream stays open
 * with its run active in the gateway. Shared by the streams phase (10,000 streams of one tenant)
 * and the tenants phase (one stream for each of 10,000 tenants).
 */
import type { StreamResult } from "./sse-client";
import { sleep } from "./services";
import { failureOf, type Target } from "./targets";

/** Streams being opened at once. */
const OPENING_IN_FLIGHT = 200;

export interface LiveStreams {
  opened: number;
  /** Streams whose first token arrived. */
  withToken: () => number;
  failed: Record<string, number>;
  failedBeforeOpen: number;
  runIds: string[];
  /** Every stream's outcome (they settle when the run ends or the connection is cut). */
  results: Promise<StreamResult>[];
  openSeconds: number;
}

export interface OpenOptions {
  /** Target of the i-th stream (e.g. the i-th tenant's). */
  targetOf: (index: number) => Target;
  /** Index of the first stream (session keys and targets continue from earlier calls). */
  from?: number;
  count: number;
  keyPrefix: string;
  log?: (message: string) => void;
  /** Stop opening once this many failed (default 200): the limit was reached, more attempts only add noise. */
  maxFailures?: number;
}

/** Opens `count` stalled streams, 200 at a time, and resolves once each opened or failed. */
export async function openLiveStreams(options: OpenOptions): Promise<LiveStreams> {
  const from = options.from ?? 0;
  let withToken = 0;
  const streams: LiveStreams = { opened: 0, withToken: () => withToken, failed: {}, failedBeforeOpen: 0, runIds: [], results: [], openSeconds: 0 };
  let inFlight = 0;
  let wake: (() => void) | undefined;
  const release = () => {
    inFlight -= 1;
    wake?.();
  };
  const started = performance.now();
  for (let index = from; index < from + options.count; index += 1) {
    while (inFlight >= OPENING_IN_FLIGHT) await new Promise<void>((resolve) => (wake = resolve));
    inFlight += 1;
    let open = false;
    const result = options.targetOf(index).send(`[[fault:stall:1:3600000]] stream ${index}`, `${options.keyPrefix}-${index}`, {
      onOpen: (runId) => {
        open = true;
        streams.opened += 1;
        if (runId) streams.runIds.push(runId);
        release();
      },
      onToken: (count) => {
        if (count === 1) withToken += 1;
      },
    });
    void result.then((outcome) => {
      if (open) return;
      streams.failedBeforeOpen += 1;
      const reason = failureOf(outcome);
      streams.failed[reason] = (streams.failed[reason] ?? 0) + 1;
      release();
    });
    streams.results.push(result);
    if (index > from && (index - from) % 1000 === 0) options.log?.(`  ${streams.opened} open, ${streams.failedBeforeOpen} failed`);
    if (streams.failedBeforeOpen > (options.maxFailures ?? 200)) break;
  }
  while (streams.opened + streams.failedBeforeOpen < streams.results.length) await sleep(50);
  streams.openSeconds = (performance.now() - started) / 1000;
  return streams;
}

/** Waits until every opened stream had its first token, or `timeoutMs`. */
export async function waitForFirstTokens(streams: LiveStreams, timeoutMs = 30_000): Promise<void> {
  for (let waited = 0; streams.withToken() < streams.opened && waited < timeoutMs; waited += 100) await sleep(100);
}
