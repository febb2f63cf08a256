/**
 * The soak: N users chatting through the platform (send, read the streamed reply, think, repeat;
 * a new session every few messages), sampling the services' RSS every second. Shared by the
 * bench (minutes) and e2e/faults/soak.test.ts (seconds).
 */
import type { SoakSnapshot } from "./context";
import { descriptors, probe, rssBytes, sleep, type ChildService } from "./services";
import { agent } from "./sse-client";
import { completed, failureOf, platformTarget, type PlatformUser } from "./targets";

export interface ChatOutcome {
  runs: number;
  errors: Record<string, number>;
  latencies: number[];
  seconds: number;
  rss: Record<string, { t: number; rss: number }[]>;
}

export interface ChatOptions {
  platformUrl: string;
  /** Accounts to chat as; client i uses account i mod accounts.length. */
  users: PlatformUser[];
  /** Concurrent chat clients (default: one per account). */
  clients?: number;
  seconds: number;
  thinkMs: [number, number];
  messagesPerSession: number;
  keyPrefix: string;
  /** Sampled every second. */
  watch: ChildService[];
}

export async function chat(options: ChatOptions): Promise<ChatOutcome> {
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  const outcome: ChatOutcome = { runs: 0, errors: {}, latencies: [], seconds: 0, rss: {} };
  for (const service of options.watch) outcome.rss[service.name] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const t = (performance.now() - started) / 1000;
      for (const service of options.watch) outcome.rss[service.name]!.push({ t, rss: await rssBytes(service.pid) });
      await sleep(1_000);
    }
  })();
  await Promise.all(
    Array.from({ length: options.clients ?? options.users.length }, async (_, index) => {
      const target = platformTarget(options.platformUrl, options.users[index % options.users.length]!);
      await sleep(Math.random() * options.thinkMs[1]);
      for (let message = 0; performance.now() < deadline; message += 1) {
        const sessionKey = `${options.keyPrefix}-u${index}-s${Math.floor(message / options.messagesPerSession)}`;
        const result = await target.send(`Soak message ${message} from user ${index}: what should I do next?`, sessionKey, { timeoutMs: 60_000 });
        if (completed(result, "platform")) {
          outcome.runs += 1;
          outcome.latencies.push(result.totalMs);
        } else {
          const reason = failureOf(result);
          outcome.errors[reason] = (outcome.errors[reason] ?? 0) + 1;
        }
        const [low, high] = options.thinkMs;
        await sleep(low + Math.random() * (high - low));
      }
    }),
  );
  sampling = false;
  await sampler;
  outcome.seconds = (performance.now() - started) / 1000;
  return outcome;
}

/**
 * Waits until nothing is in flight and idle keep-alive connections have expired (the client's
 * are closed now; fetch (undici) pools close theirs after 4 s), then reads each service's
 * descriptors and (after a full GC) its heap and active resources.
 */
export async function quiescentSnapshot(services: ChildService[], options: { settleMs?: number; databaseDir?: string } = {}): Promise<Record<string, SoakSnapshot>> {
  const settleMs = options.settleMs ?? 4_500;
  agent.destroy();
  await sleep(settleMs);
  const snapshot: Record<string, SoakSnapshot> = {};
  for (const service of services) {
    const report = await probe(service);
    const fds = await descriptors(service.pid, options.databaseDir);
    snapshot[service.name] = {
      rss: await rssBytes(service.pid),
      heapUsed: report.heapUsed,
      fds: fds.total,
      sockets: fds.sockets,
      databaseFiles: fds.database,
      resources: report.resources,
    };
  }
  return snapshot;
}

export function meanRssOfLast(samples: { t: number; rss: number }[], seconds: number): number {
  const end = samples.at(-1)?.t ?? 0;
  const window = samples.filter((sample) => sample.t >= end - seconds);
  return window.reduce((sum, sample) => sum + sample.rss, 0) / Math.max(1, window.length);
}
