/**
 * What the gateway spends with nothing happening, for N tenants (issue 17's holding figure, taken
 * apart): one gateway (bundle, no Redis) and the fake upstream; N tenants with one agent each,
 * created directly on the gateway. Then, per round of 10 s:
 *
 *   --streams   each tenant holds one live SSE run stream (one token, then the upstream stalls):
 *               the gateway's CPU per second (its 15 s SSE heartbeats are nearly all of it)
 *   --sweep     the platform's usage sweep (POST /v1/usage/pending over every tenant, 1,000 a
 *               request, as platform/src/tenancy/usage-ingest.ts does every 5 s): CPU per sweep
 *
 *   npx tsx bench/gateway-holding.ts [--tenants 2000] [--rounds 3] (--streams | --sweep)
 *
 * The gateway needs two descriptors per stream: keep --tenants below half of `ulimit -n`.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { openLiveStreams, waitForFirstTokens } from "./lib/live-streams";
import { cpuMs, killAllServices, rssBytes, sleep, startFake, startGateway } from "./lib/services";
import { createGatewayAgent, gatewayTarget, type GatewayTenant } from "./lib/targets";

const { values } = parseArgs({
  options: {
    tenants: { type: "string", default: "2000" },
    rounds: { type: "string", default: "3" },
    streams: { type: "boolean", default: false },
    sweep: { type: "boolean", default: false },
  },
});
const count = Number(values.tenants);
const rounds = Number(values.rounds);
if (values.streams === values.sweep) throw new Error("say --streams or --sweep");
const hookToken = "gateway-holding-token-0123456789abcdef";
const dataDir = await mkdtemp(path.join(os.tmpdir(), "workforce-gateway-holding-"));
const fake = await startFake({ tokens: 20, tokenDelayMs: 0 });
const gateway = await startGateway({ dataDir, fakeUrl: fake.url, hookToken, env: { WORKFORCE_MAX_CONCURRENT_RUNS: String(Math.min(10_000, Math.max(count + 1, 10))) } });
try {
  const tenants: GatewayTenant[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < count) {
        const index = (next += 1) - 1;
        tenants[index] = await createGatewayAgent(gateway.url, hookToken);
      }
    }),
  );
  console.log(`${count} tenants created`);
  if (values.sweep) {
    const sweep = async () => {
      for (let from = 0; from < tenants.length; from += 1000) {
        const cursors = tenants.slice(from, from + 1000).map((tenant) => ({ tenantId: tenant.tenantId, after: 0 }));
        const response = await fetch(`${gateway.url}/v1/usage/pending`, { method: "POST", headers: { authorization: `Bearer ${hookToken}`, "content-type": "application/json" }, body: JSON.stringify({ cursors }) });
        if (response.status !== 200) throw new Error(`usage/pending: ${response.status} ${await response.text()}`);
        await response.arrayBuffer();
      }
    };
    await sweep(); // warm
    for (let round = 0; round < rounds; round += 1) {
      const before = await cpuMs(gateway.pid);
      const started = performance.now();
      await sweep();
      console.log(`round ${round}: a sweep of ${count} tenants took ${(performance.now() - started).toFixed(0)} ms and ${((await cpuMs(gateway.pid)) - before).toFixed(0)} ms of gateway CPU`);
    }
  } else {
    const streams = await openLiveStreams({ targetOf: (index) => gatewayTarget(gateway.url, tenants[index]!), count, keyPrefix: "live" });
    await waitForFirstTokens(streams);
    console.log(`${streams.opened} streams open, ${streams.withToken()} with their first token, failed ${JSON.stringify(streams.failed)}`);
    for (let round = 0; round < rounds; round += 1) {
      const before = await cpuMs(gateway.pid);
      await sleep(10_000);
      console.log(`round ${round}: gateway ${(((await cpuMs(gateway.pid)) - before) / 10).toFixed(0)} ms CPU/s, RSS ${((await rssBytes(gateway.pid)) / 1e6).toFixed(0)} MB`);
    }
  }
} finally {
  await gateway.stop().catch(() => undefined);
  killAllServices();
  await rm(dataDir, { recursive: true, force: true });
}
process.exit(0);
