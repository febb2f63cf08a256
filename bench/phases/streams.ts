/**
 * Concurrent open SSE streams one platform process holds. Each stream is a real run: the fake
 * upstream sends one token and then stalls for an hour (magic token), so every stream stays open
 * with its run active in the gateway (WORKFORCE_MAX_CONCURRENT_RUNS raised to its maximum, 10,000,
 * for this phase only). Memory per stream = RSS growth / streams held. The runs are then aborted
 * through the gateway API and every client stream must end.
 */
import type { BenchContext, StreamsResult } from "../lib/context";
import { connectionsTo } from "../lib/connections";
import { cpuMs, descriptors, probe, rssBytes, sleep } from "../lib/services";
import { openLiveStreams, waitForFirstTokens } from "../lib/live-streams";
import { agent, jsonRequest } from "../lib/sse-client";
import { startBenchSystem } from "../lib/system";
import { createPlatformUser, platformTarget } from "../lib/targets";

export async function measureStreams(context: BenchContext): Promise<StreamsResult> {
  const { options, log } = context;
  const system = await startBenchSystem({
    fake: { tokens: 20, tokenDelayMs: 0 },
    gatewayEnv: { WORKFORCE_MAX_CONCURRENT_RUNS: "10000" },
    probe: true,
    gatewayFlags: ["--expose-gc"],
    platformFlags: ["--expose-gc"],
  });
  try {
    const platform = system.platform!;
    const user = await createPlatformUser(platform.url);
    const target = platformTarget(platform.url, user);
    // Warm the path once, then let memory settle.
    await target.send("warm-up", "streams-warmup", { timeoutMs: 30_000 });
    await sleep(2_000);
    const platformRssBefore = await rssBytes(platform.pid);
    const gatewayRssBefore = await rssBytes(system.gateway.pid);
    const platformHeapBefore = (await probe(platform)).heapUsed;
    const gatewayHeapBefore = (await probe(system.gateway)).heapUsed;
    const cpuBefore = { platform: await cpuMs(platform.pid), gateway: await cpuMs(system.gateway.pid), fake: await cpuMs(system.fake.pid) };

    const streams = await openLiveStreams({ targetOf: () => target, count: options.streams, keyPrefix: "stream", log });
    const { opened, failed, failedBeforeOpen, runIds, results, openSeconds } = streams;
    const cpuOpen = {
      platform: (await cpuMs(platform.pid)) - cpuBefore.platform,
      gateway: (await cpuMs(system.gateway.pid)) - cpuBefore.gateway,
      fake: (await cpuMs(system.fake.pid)) - cpuBefore.fake,
    };
    // Let the first tokens arrive.
    await waitForFirstTokens(streams);
    const withToken = streams.withToken();
    log(`  ${opened} streams open in ${openSeconds.toFixed(1)} s (${withToken} with a token, ${failedBeforeOpen} failed ${JSON.stringify(failed)})`);
    await sleep(options.streamHoldSeconds * 1000);
    const platformRssOpen = await rssBytes(platform.pid);
    const gatewayRssOpen = await rssBytes(system.gateway.pid);
    const platformHeapOpen = (await probe(platform)).heapUsed;
    const gatewayHeapOpen = (await probe(system.gateway)).heapUsed;
    const platformFds = await descriptors(platform.pid);
    const gatewayFds = await descriptors(system.gateway.pid);
    const platformToGateway = await connectionsTo(platform.pid, Number(new URL(system.gateway.url).port));
    log(
      `  platform RSS ${(platformRssBefore / 1e6).toFixed(0)} → ${(platformRssOpen / 1e6).toFixed(0)} MB, heap ${(platformHeapBefore / 1e6).toFixed(0)} → ${(platformHeapOpen / 1e6).toFixed(0)} MB, ${platformFds.total} fds; ` +
        `${platformToGateway} platform→gateway connections; gateway RSS ${(gatewayRssBefore / 1e6).toFixed(0)} → ${(gatewayRssOpen / 1e6).toFixed(0)} MB, heap ${(gatewayHeapBefore / 1e6).toFixed(0)} → ${(gatewayHeapOpen / 1e6).toFixed(0)} MB, ${gatewayFds.total} fds; ` +
        `CPU per opened stream: platform ${(cpuOpen.platform / Math.max(1, opened)).toFixed(2)} ms, gateway ${(cpuOpen.gateway / Math.max(1, opened)).toFixed(2)} ms, fake ${(cpuOpen.fake / Math.max(1, opened)).toFixed(2)} ms`,
    );

    // End every run through the gateway; each client stream must then end on its own.
    const closeStarted = performance.now();
    const headers = { authorization: `Bearer ${system.hookToken}`, "x-tenant-id": user.tenantId };
    for (let index = 0; index < runIds.length; index += 100) {
      await Promise.all(runIds.slice(index, index + 100).map((runId) => jsonRequest(`${system.gateway.url}/v1/runs/${runId}/abort`, "POST", headers).catch(() => undefined)));
    }
    let ended = 0;
    const deadline = sleep(60_000).then(() => "timeout" as const);
    await Promise.race([Promise.all(results.map((result) => result.then(() => (ended += 1)))), deadline]);
    const closeSeconds = (performance.now() - closeStarted) / 1000;
    agent.destroy();
    await sleep(6_000);
    const platformFdsAfter = (await descriptors(platform.pid)).total;
    log(`  ${ended}/${results.length} streams ended ${closeSeconds.toFixed(1)} s after the aborts; platform back to ${platformFdsAfter} fds`);
    return {
      requested: options.streams,
      opened,
      withToken,
      failed,
      openSeconds,
      platformToGateway,
      platform: { rssBefore: platformRssBefore, rssOpen: platformRssOpen, heapBefore: platformHeapBefore, heapOpen: platformHeapOpen, fdsOpen: platformFds.total, cpuMsPerOpen: cpuOpen.platform / Math.max(1, opened) },
      gateway: { rssBefore: gatewayRssBefore, rssOpen: gatewayRssOpen, heapBefore: gatewayHeapBefore, heapOpen: gatewayHeapOpen, fdsOpen: gatewayFds.total, cpuMsPerOpen: cpuOpen.gateway / Math.max(1, opened) },
      endedAfterAbort: ended,
      closeSeconds,
      platformFdsAfter,
      limit: await fdLimit(),
    };
  } finally {
    await system.stop();
  }
}

export async function fdLimit(): Promise<string> {
  const { readFile } = await import("node:fs/promises");
  const limits = await readFile("/proc/self/limits", "utf8");
  const line = limits.split("\n").find((entry) => entry.startsWith("Max open files"));
  const [soft, hard] = line?.replace("Max open files", "").trim().split(/\s+/) ?? [];
  return `RLIMIT_NOFILE soft ${soft ?? "?"}, hard ${hard ?? "?"}`;
}
