import { access, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { RunInfo, type TranscriptEntry } from "@workforce/protocol";
import { tenantPaths } from "@workforce/protocol/tenant-path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { silentLogger } from "../logger";
import { createHeldProvider } from "../test-support/held-provider";
import { readRunEvents, startTestGateway, TENANT_A, type TestGateway } from "../test-support/test-gateway";
import { createSessionStore, type SessionStore } from "./session-store";

let dataDir: string;
let store: SessionStore | undefined;
let harness: TestGateway | undefined;
beforeEach(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "gateway-registry-cache-"));
});
afterEach(async () => {
  await store?.flushAll();
  await harness?.cleanup();
  store = undefined;
  harness = undefined;
  await rm(dataDir, { recursive: true, force: true });
});

const tenant = (index: number) => `00000000-0000-4000-8000-${String(index).padStart(12, "0")}`;
const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

function userEntry(text: string): TranscriptEntry {
  return { type: "user", id: `u-${text}`, parentId: null, timestamp: new Date().toISOString(), content: [{ type: "text", text }] };
}

describe("session registry cache", () => {
  it("keeps at most WORKFORCE_REGISTRY_CACHE registries across many tenants, writing evicted ones out without losing a session", async () => {
    // eagerMaxSessions 0: sessions.json is only written by compaction, so eviction itself must flush.
    store = createSessionStore({ dataDir, logger: silentLogger, now: () => new Date(), registryCacheSize: 3, eagerMaxSessions: 0, compactDelayMs: 60_000 });
    const tenants = Array.from({ length: 40 }, (_, index) => tenant(index + 1));
    for (const tenantId of tenants) {
      const ref = { tenantId, agent: "ada" };
      for (const key of ["one", "two", "three"]) {
        await store.open(ref, key, `first question of ${key}`);
        await store.append(ref, key, [userEntry(key)]);
      }
      expect(store.cacheStats().loaded).toBeLessThanOrEqual(3);
    }
    // Let pending write-outs finish, then check an evicted agent on disk: registry written, journal folded in.
    await store.list({ tenantId: tenants[39]!, agent: "ada" });
    const evicted = tenantPaths(dataDir, tenants[0]!).agent("ada");
    await expect.poll(() => exists(evicted.registryJournal)).toBe(false);
    const onDisk = JSON.parse(await readFile(evicted.registry, "utf8")) as Record<string, { messageCount: number }>;
    expect(Object.keys(onDisk).sort()).toEqual(["one", "three", "two"]);

    // Reload every tenant: nothing lost, and the cache stays bounded while doing it.
    for (const tenantId of tenants) {
      const sessions = await store.list({ tenantId, agent: "ada" });
      expect(sessions.map((session) => [session.key, session.messageCount]).sort()).toEqual([
        ["one", 1],
        ["three", 1],
        ["two", 1],
      ]);
      expect(store.cacheStats().loaded).toBeLessThanOrEqual(3);
    }
  });

  it("never evicts a pinned registry, and evicts it once released", async () => {
    store = createSessionStore({ dataDir, logger: silentLogger, now: () => new Date(), registryCacheSize: 2, eagerMaxSessions: 0, compactDelayMs: 60_000 });
    const busy = { tenantId: tenant(99), agent: "ada" };
    const release = await store.pin(busy);
    await store.open(busy, "live", "hello");
    for (let index = 1; index <= 10; index += 1) await store.open({ tenantId: tenant(index), agent: "ada" }, "x", "q");
    expect(store.cacheStats()).toMatchObject({ pinned: 1 });
    expect(store.cacheStats().loaded).toBeLessThanOrEqual(3);
    // Still loaded: its change sits in the journal, not yet written to sessions.json.
    const paths = tenantPaths(dataDir, busy.tenantId).agent("ada");
    expect(await exists(paths.registryJournal)).toBe(true);

    release();
    await store.open({ tenantId: tenant(11), agent: "ada" }, "x", "q");
    await expect.poll(() => exists(paths.registryJournal)).toBe(false);
    expect(store.cacheStats().pinned).toBe(0);
    expect((await store.list(busy)).map((session) => session.key)).toEqual(["live"]);
  });

  it("keeps the registry of an agent with an active run loaded while other tenants churn the cache", async () => {
    // The model answers only when released: the run is active through the churn however slow the machine.
    const provider = createHeldProvider();
    harness = await startTestGateway({ providers: { anthropic: provider }, config: { defaultModel: "claude-held", registryCacheSize: 1 } });
    await harness.createAgent(TENANT_A);
    const run = RunInfo.parse(await (await harness.request("POST", "/v1/agents/ada/runs", { body: { message: "Who are you?", sessionKey: "s" } })).json());
    await provider.waitForCalls(1);
    for (let index = 1; index <= 5; index += 1) {
      const other = tenant(index);
      await harness.createAgent(other);
      await harness.request("GET", "/v1/agents/ada/sessions", { tenant: other });
    }
    expect(harness.gateway.sessions.cacheStats()).toMatchObject({ pinned: 1 });
    provider.calls[0]!.release();
    expect((await readRunEvents(await harness.request("GET", `/v1/runs/${run.runId}/events`))).at(-1)).toMatchObject({ type: "run-end", status: "ok" });
    expect(harness.gateway.sessions.cacheStats()).toMatchObject({ pinned: 0 });
    const listed = (await (await harness.request("GET", "/v1/agents/ada/sessions")).json()) as { sessions: { key: string; messageCount: number }[] };
    expect(listed.sessions).toMatchObject([{ key: "s", messageCount: 2 }]);
  });
});
