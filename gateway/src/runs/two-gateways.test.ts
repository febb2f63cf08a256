import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { RunInfo, SessionHistory, TranscriptLine, type SessionSummary } from "@workforce/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { readRunEvents, startTestGateway, TENANT_A, type TestGateway } from "../test-support/test-gateway";

const harnesses: TestGateway[] = [];
afterEach(async () => {
  for (const harness of harnesses.splice(0).reverse()) await harness.cleanup();
});

async function list(harness: TestGateway): Promise<SessionSummary[]> {
  return ((await (await harness.request("GET", "/v1/agents/ada/sessions")).json()) as { sessions: SessionSummary[] }).sessions;
}

describe("two gateways serving one TENANT_DATA_DIR", () => {
  it("share agents and sessions: concurrent runs on both lose no registry entry or transcript line, and never overlap in a session", async () => {
    const first = await startTestGateway({ config: { offlineTokenDelayMs: 1 } });
    harnesses.push(first);
    const second = await startTestGateway({ dataDir: first.dataDir, config: { offlineTokenDelayMs: 1 } });
    harnesses.push(second);
    expect((await first.createAgent(TENANT_A)).status).toBe(201);
    // The agent written by one gateway is served by the other.
    expect((await second.request("GET", "/v1/agents/ada")).status).toBe(200);

    const sends = [first, second].flatMap((gateway, gatewayIndex) =>
      Array.from({ length: 8 }, (_, index) => ({
        gateway,
        // Half go to one session both gateways write to; the rest each open a session of their own.
        body: { message: `g${gatewayIndex} m${index}`, sessionKey: index % 2 === 0 ? "shared" : `own-${gatewayIndex}-${index}` },
      })),
    );
    const runs = await Promise.all(
      sends.map(async ({ gateway, body }) => ({ gateway, info: RunInfo.parse(await (await gateway.request("POST", "/v1/agents/ada/runs", { body })).json()) })),
    );
    for (const { gateway, info } of runs) {
      expect((await readRunEvents(await gateway.request("GET", `/v1/runs/${info.runId}/events`))).at(-1)).toMatchObject({ type: "run-end", status: "ok" });
    }
    expect((await first.request("PATCH", "/v1/agents/ada/sessions/shared", { body: { title: "Both gateways" } })).status).toBe(200);

    const expectedKeys = ["shared", ...[0, 1].flatMap((gatewayIndex) => [1, 3, 5, 7].map((index) => `own-${gatewayIndex}-${index}`))].sort();
    for (const gateway of [first, second]) {
      const sessions = await list(gateway);
      expect(sessions.map((session) => session.key).sort()).toEqual(expectedKeys);
      expect(sessions.find((session) => session.key === "shared")).toMatchObject({ title: "Both gateways", messageCount: 16 });
    }
    const history = SessionHistory.parse(await (await second.request("GET", "/v1/agents/ada/sessions/shared")).json());
    const users = history.entries.flatMap((entry) => (entry.type === "user" ? [entry.content[0]?.text] : []));
    expect([...users].sort()).toEqual([0, 1].flatMap((gatewayIndex) => [0, 2, 4, 6].map((index) => `g${gatewayIndex} m${index}`)).sort());
    // The session's run lease kept the two gateways' runs from overlapping: one linear conversation.
    expect(history.entries.map((entry) => entry.parentId)).toEqual([null, ...history.entries.slice(0, -1).map((entry) => entry.id)]);

    // On disk: sessions.json names every session once both have written it out; every line parses.
    await first.gateway.close();
    await second.gateway.close();
    const sessionsDir = path.join(first.dataDir, TENANT_A, "agents", "ada", "sessions");
    const registry = JSON.parse(await readFile(path.join(sessionsDir, "sessions.json"), "utf8")) as Record<string, unknown>;
    expect(Object.keys(registry).sort()).toEqual(expectedKeys);
    for (const name of (await readdir(sessionsDir)).filter((file) => file.endsWith(".jsonl") && file !== "sessions.journal.jsonl")) {
      const lines = (await readFile(path.join(sessionsDir, name), "utf8")).trim().split("\n");
      for (const line of lines.slice(1)) TranscriptLine.parse(JSON.parse(line));
    }
  });
});
