import { RunEvent, SseParser } from "@workforce/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeGateway, type FakeGateway } from "../test-support/fake-gateway";
import { caller, createTestPlatform, signUp, type TestPlatform } from "../test-support/test-platform";

const REPLY = Array.from({ length: 60 }, (_, index) => `word${index}`).join(" ");

let gateway: FakeGateway;
let platform: TestPlatform;
let ada: { token: string; tenantId: string };

beforeAll(async () => {
  gateway = await startFakeGateway({ reply: REPLY, eventDelayMs: 25 });
  platform = await createTestPlatform({ gatewayUrl: gateway.url });
  ada = await signUp(platform, "ada@example.com");
  await caller(platform)("POST", "/api/agents", { token: ada.token, body: { name: "Ada", role: "Analyst" } });
});
afterAll(async () => {
  await platform.close();
  await gateway.close();
});

/** Reads a browser stream event by event; `next(count)` waits until that many arrived or the stream ended. */
function browserStream(response: Response) {
  const reader = response.body!.getReader();
  const parser = new SseParser();
  const decoder = new TextDecoder();
  const events: RunEvent[] = [];
  let ended = false;
  const next = async (count: number) => {
    while (!ended && events.length < count) {
      const { done, value } = await reader.read();
      if (done) ended = true;
      else for (const message of parser.push(decoder.decode(value, { stream: true }))) events.push(RunEvent.parse(JSON.parse(message.data)));
    }
    return events;
  };
  return { events, next, toEnd: () => next(Number.POSITIVE_INFINITY) };
}

describe("a chat stream whose gateway dies mid-run", () => {
  let runId: string;
  let seen: number;

  it("is not closed silently: the platform follows the run again and, the run being gone, ends it run_interrupted", async () => {
    const response = await caller(platform)("POST", "/api/agents/ada/messages", { token: ada.token, body: { message: "Tell me everything" } });
    expect(response.status).toBe(200);
    runId = response.headers.get("x-run-id")!;
    const stream = browserStream(response);
    await stream.next(4);
    // The gateway dies and comes back on the same address knowing nothing of the run.
    const port = Number(new URL(gateway.url).port);
    await gateway.close();
    gateway = await startFakeGateway({ port, reply: REPLY });
    const events = await stream.toEnd();
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));
    expect(events.at(-1)).toMatchObject({ type: "run-end", runId, status: "error", error: { code: "run_interrupted", retryable: true } });
    expect(events.filter((event) => event.type === "run-end")).toHaveLength(1);
    seen = events.length - 1;
  });

  it("answers a browser resuming that run (Last-Event-ID) with its run_interrupted end", async () => {
    const resumed = await caller(platform)("GET", `/api/runs/${runId}/events`, { token: ada.token, headers: { "last-event-id": String(seen) } });
    expect(resumed.status).toBe(200);
    expect(await browserStream(resumed).toEnd()).toEqual([expect.objectContaining({ type: "run-end", seq: seen + 1, error: expect.objectContaining({ code: "run_interrupted" }) })]);
  });

  it("still answers run_not_found for a run id asked about without having followed it", async () => {
    const asked = await caller(platform)("GET", `/api/runs/${runId}/events`, { token: ada.token });
    expect(asked.status).toBe(404);
    expect(await asked.json()).toMatchObject({ error: { code: "run_not_found" } });
  });
});
