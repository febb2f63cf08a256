/**
 * Cost per message with 1, 100 and 10,000 tenants, each holding a live SSE stream through the
 * platform (issue 17): the shape a multi-tenant deployment has. One platform + gateway; the
 * tenants are organisations created through the platform's API (POST /api/tenants by one account,
 * which needs no password hash per tenant, then POST /api/agents in each), added step by step, and
 * each opens one stream that stays live (the fake upstream sends one token and stalls). At each
 * step: the CPU the processes spend just holding the streams, then messages sent one at a time,
 * each by the next tenant in turn (its second run, in a new session), with time to first token and total time, CPU
 * per message from /proc, RSS, descriptors and the platform's TCP connections to the gateway.
 */
import { STREAM_LEASE_TTL_MS } from "../../platform/src/limits/stream-leases";
import { connectionsTo } from "../lib/connections";
import type { BenchContext, TenantsResult, TenantsRow } from "../lib/context";
import { openLiveStreams, waitForFirstTokens, type LiveStreams } from "../lib/live-streams";
import { cpuMs, descriptors, rssBytes, sleep } from "../lib/services";
import { agent, jsonRequest } from "../lib/sse-client";
import { summarize } from "../lib/stats";
import { startBenchSystem } from "../lib/system";
import { completed, createPlatformUser, platformTarget, type PlatformUser, type Target } from "../lib/targets";
import { fdLimit } from "./streams";

/** The gateway's largest WORKFORCE_MAX_CONCURRENT_RUNS; one run stays free for the measured message. */
const MAX_RUNS = 10_000;
/** Tenants created at once (the platform's database and the gateway's agent creation overlap). */
const CREATING_IN_FLIGHT = 32;

/**
 * Waits in 5 s windows until the processes' combined CPU rate stops falling (a window at least
 * 90% of the one before) or is below 50 ms/s, at most 5 minutes; returns the seconds waited.
 */
async function waitForQuiet(pids: number[]): Promise<number> {
  const started = performance.now();
  const total = async () => (await Promise.all(pids.map((pid) => cpuMs(pid)))).reduce((sum, ms) => sum + ms, 0);
  let previous = Infinity;
  while (performance.now() - started < 300_000) {
    const before = await total();
    await sleep(5_000);
    const rate = ((await total()) - before) / 5;
    if (rate < 50 || rate >= previous * 0.9) break;
    previous = rate;
  }
  return (performance.now() - started) / 1000;
}

/** A further organisation of `owner`, with one agent, as a platform user acting in it. */
async function createTenant(platformUrl: string, owner: PlatformUser, index: number): Promise<PlatformUser> {
  const account = { authorization: owner.headers.authorization! };
  const tenant = await jsonRequest<{ tenant: { id: string } }>(`${platformUrl}/api/tenants`, "POST", account, { name: `Bench tenant ${index}` });
  if (tenant.status !== 201) throw new Error(`platform: creating organisation ${index} failed: ${tenant.status} ${JSON.stringify(tenant.body)}`);
  const headers = { ...account, "x-tenant-id": tenant.body.tenant.id };
  const created = await jsonRequest<{ agent: { slug: string } }>(`${platformUrl}/api/agents`, "POST", headers, { name: "Bench Agent", role: "Benchmark subject", persona: "Answers briefly." });
  if (created.status !== 201) throw new Error(`platform: creating an agent in organisation ${index} failed: ${created.status} ${JSON.stringify(created.body)}`);
  return { accessToken: owner.accessToken, tenantId: tenant.body.tenant.id, slug: created.body.agent.slug, headers };
}

async function createTenants(platformUrl: string, owner: PlatformUser, tenants: PlatformUser[], count: number, log: (message: string) => void): Promise<void> {
  let next = tenants.length;
  await Promise.all(
    Array.from({ length: CREATING_IN_FLIGHT }, async () => {
      while (next < count) {
        const index = (next += 1) - 1;
        tenants[index] = await createTenant(platformUrl, owner, index);
        if (index > 0 && index % 1000 === 0) log(`  ${index} tenants created`);
      }
    }),
  );
}

export async function measureTenants(context: BenchContext): Promise<TenantsResult> {
  const { options, log } = context;
  const counts = [...new Set(options.tenantCounts)].sort((a, b) => a - b);
  const system = await startBenchSystem({
    fake: { tokens: options.tokens, tokenDelayMs: options.tokenDelayMs },
    gatewayEnv: { WORKFORCE_MAX_CONCURRENT_RUNS: String(MAX_RUNS) },
  });
  const platform = system.platform!;
  const rows: TenantsRow[] = [];
  const streams: LiveStreams[] = [];
  try {
    const tenants: PlatformUser[] = [await createPlatformUser(platform.url)];
    const targets: Target[] = [];
    const targetOf = (index: number) => (targets[index] ??= platformTarget(platform.url, tenants[index]!));
    let streamsRequested = 0;
    for (const count of counts) {
      const creating = performance.now();
      await createTenants(platform.url, tenants[0]!, tenants, count, log);
      const createSeconds = (performance.now() - creating) / 1000;
      const wanted = Math.min(count, MAX_RUNS - 1);
      const opened = await openLiveStreams({ targetOf, from: streamsRequested, count: wanted - streamsRequested, keyPrefix: "live", log });
      streamsRequested = wanted;
      streams.push(opened);
      await waitForFirstTokens(opened);
      const liveStreams = streams.reduce((sum, step) => sum + step.opened, 0);
      const failedStreams: Record<string, number> = {};
      for (const step of streams) for (const [reason, n] of Object.entries(step.failed)) failedStreams[reason] = (failedStreams[reason] ?? 0) + n;
      log(`  ${count} tenants (created in ${createSeconds.toFixed(1)} s), ${liveStreams} live streams${Object.keys(failedStreams).length ? `, failed ${JSON.stringify(failedStreams)}` : ""}`);
      await sleep(options.settleMs);
      // Creating thousands of organisations leaves minutes of work behind (each one's policy is
      // pushed to the gateway, one at a time): wait until the two processes' CPU stops falling,
      // so the holding figure is the streams' upkeep, not that backlog.
      const settleSeconds = options.quick ? 0 : await waitForQuiet([platform.pid, system.gateway.pid]);
      if (settleSeconds > 0) log(`  waited ${settleSeconds.toFixed(0)} s for the processes to go quiet`);

      // What holding the streams costs with no message in flight, over one whole lease-renewal
      // period (the platform renews every stream lease in one statement every 20 s), so that
      // periodic work counts once at its average rather than all or nothing (a 3 s window read
      // 632 ms/s at 10,000 tenants and made the figure net of holding negative). Quick: settleMs.
      const idleBefore = { platform: await cpuMs(platform.pid), gateway: await cpuMs(system.gateway.pid) };
      const idleStarted = performance.now();
      await sleep(options.quick ? options.settleMs : STREAM_LEASE_TTL_MS / 3);
      const idleSeconds = (performance.now() - idleStarted) / 1000;
      const idleCpuMsPerSecond = {
        platform: ((await cpuMs(platform.pid)) - idleBefore.platform) / idleSeconds,
        gateway: ((await cpuMs(system.gateway.pid)) - idleBefore.gateway) / idleSeconds,
      };

      // One more message at a time, each from the next tenant (spread over all of them).
      const ttft: number[] = [];
      const total: number[] = [];
      let errors = 0;
      const stride = Math.max(1, Math.floor(count / Math.max(1, options.tenantSamples)));
      let cpuBefore = { platform: 0, gateway: 0 };
      let windowStarted = 0;
      for (let index = 0; index < options.latencyWarmup + options.tenantSamples; index += 1) {
        if (index === options.latencyWarmup) {
          cpuBefore = { platform: await cpuMs(platform.pid), gateway: await cpuMs(system.gateway.pid) };
          windowStarted = performance.now();
        }
        const target = targetOf((index * stride) % count);
        const result = await target.send(`Tenant message ${index}: a short question.`, `measured-${count}-${index}`, { timeoutMs: 60_000 });
        if (index < options.latencyWarmup) continue;
        if (completed(result, "platform") && result.ttftMs !== undefined) {
          ttft.push(result.ttftMs);
          total.push(result.totalMs);
        } else errors += 1;
      }
      const measured = Math.max(1, ttft.length);
      const cpuMsPerMessage = {
        platform: ((await cpuMs(platform.pid)) - cpuBefore.platform) / measured,
        gateway: ((await cpuMs(system.gateway.pid)) - cpuBefore.gateway) / measured,
      };
      const windowSeconds = (performance.now() - windowStarted) / 1000;
      const net = {
        platform: cpuMsPerMessage.platform - (idleCpuMsPerSecond.platform * windowSeconds) / measured,
        gateway: cpuMsPerMessage.gateway - (idleCpuMsPerSecond.gateway * windowSeconds) / measured,
      };
      const row: TenantsRow = {
        tenants: count,
        settleSeconds,
        liveStreams,
        failedStreams,
        createSeconds,
        ttft: summarize(ttft),
        total: summarize(total),
        errors,
        cpuMsPerMessage,
        cpuMsPerMessageNet: net,
        idleCpuMsPerSecond,
        rss: { platform: await rssBytes(platform.pid), gateway: await rssBytes(system.gateway.pid) },
        fds: { platform: (await descriptors(platform.pid)).total, gateway: (await descriptors(system.gateway.pid)).total },
        platformToGateway: await connectionsTo(platform.pid, system.gateway.port),
      };
      rows.push(row);
      log(
        `  ${count} tenants: TTFT median ${row.ttft.median.toFixed(2)} p95 ${row.ttft.p95.toFixed(2)} ms (${ttft.length} messages, ${errors} errors); ` +
          `CPU per message platform ${row.cpuMsPerMessage.platform.toFixed(1)} gateway ${row.cpuMsPerMessage.gateway.toFixed(1)} ms (net of holding ${net.platform.toFixed(1)} / ${net.gateway.toFixed(1)}); ` +
          `holding: platform ${row.idleCpuMsPerSecond.platform.toFixed(0)} gateway ${row.idleCpuMsPerSecond.gateway.toFixed(0)} ms CPU/s; ` +
          `RSS platform ${(row.rss.platform / 1048576).toFixed(0)} gateway ${(row.rss.gateway / 1048576).toFixed(0)} MB; fds ${row.fds.platform} / ${row.fds.gateway}; platform→gateway connections ${row.platformToGateway}`,
      );
    }
    return { samples: options.tenantSamples, rows, limit: await fdLimit() };
  } finally {
    await system.stop();
    // The live streams end with the services; their client sockets go with the agent.
    await Promise.race([Promise.all(streams.flatMap((step) => step.results)), sleep(10_000)]);
    agent.destroy();
  }
}
