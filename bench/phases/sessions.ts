/**
 * Session storage scaling: the cost of adding a message (a run in an existing session, and one
 * in a new session) when the agent already has N sessions. The N sessions are written straight
 * to disk in the documented format (header + a user and an assistant entry per transcript, and
 * sessions.json), validated with the protocol schemas — the session store's own `open()` fsyncs
 * twice per session, which would take minutes for 100,000. Then appends go through the gateway's
 * HTTP API, one at a time.
 */
import { randomUUID } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { SessionSummary, TranscriptEntry, TranscriptHeader } from "@workforce/protocol";
import { tenantPaths } from "@workforce/protocol/tenant-path";
import type { BenchContext, SessionScaleRow } from "../lib/context";
import { rssBytes, sleep } from "../lib/services";
import { jsonRequest } from "../lib/sse-client";
import { summarize } from "../lib/stats";
import { startBenchSystem } from "../lib/system";
import { completed, createGatewayAgent, gatewayTarget, type GatewayTenant } from "../lib/targets";

export async function measureSessionScaling(context: BenchContext): Promise<SessionScaleRow[]> {
  const { options, log } = context;
  const system = await startBenchSystem({ fake: { tokens: 5, tokenDelayMs: 0 }, withPlatform: false });
  const rows: SessionScaleRow[] = [];
  try {
    for (const size of options.sessionSizes) {
      const tenant = await createGatewayAgent(system.gateway.url, system.hookToken, `Scale ${size}`);
      const generated = performance.now();
      const keys = await generateSessions(system.dataDir, tenant, size);
      const generateSeconds = (performance.now() - generated) / 1000;

      // Meanwhile another client polls the health route: how long does loading block everyone else?
      const firstStarted = performance.now();
      const watching = { done: false };
      const stall = longestHealthAnswer(system.gateway.url, 60_000, watching);
      const first = await jsonRequest(`${system.gateway.url}/v1/agents/${tenant.slug}/sessions/${keys[0]}`, "GET", tenant.headers);
      const firstAccessMs = performance.now() - firstStarted;
      watching.done = true;
      const firstAccessStallMs = await stall;
      if (first.status !== 200) throw new Error(`session ${keys[0]} is not served: ${first.status} ${JSON.stringify(first.body)}`);

      const target = gatewayTarget(system.gateway.url, tenant);
      const existing: number[] = [];
      const fresh: number[] = [];
      let errors = 0;
      const warmup = 10;
      for (let index = 0; index < options.sessionAppends + warmup; index += 1) {
        // Spread over the existing sessions so each transcript stays short, as in real use.
        const key = keys[Math.floor((index * 7919) % keys.length)]!;
        const result = await target.send(`One more message, number ${index}.`, key, { timeoutMs: 60_000 });
        if (!completed(result, "gateway")) errors += 1;
        else if (index >= warmup) existing.push(result.totalMs);
        if (index % 4 === 0) {
          const created = await target.send(`A new conversation, number ${index}.`, `new-${size}-${index}`, { timeoutMs: 60_000 });
          if (!completed(created, "gateway")) errors += 1;
          else if (index >= warmup) fresh.push(created.totalMs);
        }
      }
      // The registry is rewritten ~2 s after the agent goes idle; watch how long that blocks the gateway.
      const compactionStallMs = await longestHealthAnswer(system.gateway.url, options.quick ? 2_500 : 4_000);
      const gatewayRss = await rssBytes(system.gateway.pid);
      const row: SessionScaleRow = {
        sessions: size,
        generateSeconds,
        firstAccessMs,
        firstAccessStallMs,
        existing: summarize(existing),
        fresh: summarize(fresh),
        errors,
        compactionStallMs,
        gatewayRss,
      };
      rows.push(row);
      log(
        `  ${String(size).padStart(6)} sessions: first access ${firstAccessMs.toFixed(0)} ms (health route blocked up to ${firstAccessStallMs.toFixed(0)} ms); add to existing median ${row.existing.median.toFixed(2)} ms p95 ${row.existing.p95.toFixed(2)}; new session median ${row.fresh.median.toFixed(2)} ms; idle rewrite stall ${compactionStallMs.toFixed(0)} ms; gateway RSS ${(gatewayRss / 1e6).toFixed(0)} MB`,
      );
    }
  } finally {
    await system.stop();
  }
  return rows;
}

/** Writes `count` sessions for the agent (transcripts + sessions.json) and returns their keys. */
export async function generateSessions(dataDir: string, tenant: GatewayTenant, count: number): Promise<string[]> {
  const paths = tenantPaths(dataDir, tenant.tenantId).agent(tenant.slug);
  await mkdir(paths.sessionsDir, { recursive: true, mode: 0o700 });
  const registry: Record<string, SessionSummary> = {};
  const keys: string[] = [];
  const base = Date.UTC(2026, 0, 1);
  const model = { provider: "anthropic" as const, id: "claude-fake-1", offline: false };
  let pending: Promise<void>[] = [];
  for (let index = 0; index < count; index += 1) {
    const sessionId = randomUUID();
    const key = `k${index}`;
    const at = new Date(base + index * 1000).toISOString();
    const header: TranscriptHeader = { type: "session", version: 1, sessionId, key, agent: tenant.slug, createdAt: at };
    const userId = randomUUID();
    const entries: TranscriptEntry[] = [
      { type: "user", id: userId, parentId: null, timestamp: at, content: [{ type: "text", text: `Question ${index}` }] },
      {
        type: "assistant",
        id: randomUUID(),
        parentId: userId,
        timestamp: at,
        content: [{ type: "text", text: `Echo: Question ${index}` }],
        model,
        usage: { inputTokens: 12, outputTokens: 4 },
        stopReason: "end_turn",
      },
    ];
    if (index === 0) {
      TranscriptHeader.parse(header);
      for (const entry of entries) TranscriptEntry.parse(entry);
    }
    const summary: SessionSummary = {
      key,
      sessionId,
      title: `Question ${index}`,
      createdAt: at,
      updatedAt: at,
      model: model.id,
      inputTokens: 12,
      outputTokens: 4,
      messageCount: 2,
      lastMessagePreview: `Echo: Question ${index}`,
    };
    if (index === 0) SessionSummary.parse(summary);
    registry[key] = summary;
    keys.push(key);
    pending.push(writeFile(paths.transcript(sessionId), [header, ...entries].map((line) => JSON.stringify(line)).join("\n") + "\n", { mode: 0o600 }));
    if (pending.length >= 256) {
      await Promise.all(pending);
      pending = [];
    }
  }
  await Promise.all(pending);
  await writeFile(paths.registry, JSON.stringify(registry, null, 2) + "\n", { mode: 0o600 });
  return keys;
}

/** Polls the health route every 10 ms for `ms` (or until `until.done`) and returns the slowest answer. */
async function longestHealthAnswer(url: string, ms: number, until?: { done: boolean }): Promise<number> {
  const deadline = performance.now() + ms;
  let longest = 0;
  while (performance.now() < deadline && !until?.done) {
    const started = performance.now();
    const response = await fetch(`${url}/`);
    await response.body?.cancel();
    longest = Math.max(longest, performance.now() - started);
    await sleep(10);
  }
  return longest;
}
