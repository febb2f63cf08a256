import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { ERROR_CODES, RunInfo, UUID_PATTERN, WS_METHODS, WsServerFrame } from "@workforce/protocol";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { changedPaths, changesOutside, expectWellFormed, fuzzParameters, hostileString, snapshotTree, urlSegment } from "../test-support/fuzz";
import { readRunEvents, startTestGateway, type TestGateway } from "../test-support/test-gateway";
import type { Logger } from "../logger";
import { WsConnection } from "./ws/ws-connection";

/**
 * Fuzzes the gateway's HTTP surface in-process: hostile tenant ids, slugs, session keys, run ids,
 * headers and JSON bodies. Properties: never a 5xx, every error is the shared JSON shape, nothing
 * changes outside the acting tenant's directory, and the canary tenant's secret never leaks.
 */
const TOKEN = "fuzz-hook-token";
/** The acting tenant; letters in it make an upper-cased spelling a different string. */
const TENANT_A = "aaaaaaaa-1111-4aaa-8aaa-aaaaaaaaaaaa";
const CANARY = "c4a7e1f0-5b2d-4e8a-9f3c-7d6e5a4b3c21";
const SECRET = "CANARY-7f3a9c-the-eagle-lands-at-dawn";
let h: TestGateway;
/** Errors still reach console.error (and fail the test); routine lines do not. */
const quietLogger: Logger = { info: () => undefined, warn: () => undefined, error: (message, error) => console.error(message, error) };
const known = { aRun: "", canaryRun: "" };

beforeAll(async () => {
  h = await startTestGateway({
    hookToken: TOKEN,
    // Background registry compaction would rewrite the canary's sessions.json mid-batch.
    registry: { compactDelayMs: 600_000 },
    authFailureLimits: { maxFailures: 1_000_000, windowMs: 60_000 },
    logger: quietLogger,
  });
  for (const tenant of [TENANT_A, CANARY]) {
    expect((await h.createAgent(tenant)).status).toBe(201);
    const message = tenant === CANARY ? `Remember ${SECRET}` : "Hello";
    const response = await h.request("POST", "/v1/agents/ada/runs", { tenant, body: { message, sessionKey: "first" }, headers: { accept: "text/event-stream" } });
    const runId = response.headers.get("x-run-id") ?? "";
    expect((await readRunEvents(response)).at(-1)).toMatchObject({ type: "run-end", status: "ok" });
    if (tenant === CANARY) known.canaryRun = runId;
    else known.aRun = runId;
  }
  // Runs are journaled just after their end (usage.jsonl and its lock): let that finish before any tree is compared.
  await h.gateway.metering.flush();
  const canaryWorkspace = path.join(h.dataDir, CANARY, "workspace", "ada");
  await mkdir(canaryWorkspace, { recursive: true });
  await writeFile(path.join(canaryWorkspace, "secret.md"), SECRET);
});
afterAll(async () => {
  await h.cleanup();
});

const tenantHeader = fc.oneof(
  { weight: 6, arbitrary: fc.constant(TENANT_A) },
  { weight: 1, arbitrary: fc.uuid({ version: 4 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      TENANT_A.toUpperCase(),
      CANARY.toUpperCase(),
      ` ${TENANT_A} `,
      `${TENANT_A}\t`,
      `${TENANT_A}, ${CANARY}`,
      `${TENANT_A}/../${CANARY}`,
      "../" + CANARY,
      `${TENANT_A}%00`,
      TENANT_A.replace(/-/g, "\u2010"),
      "",
    ),
  },
  { weight: 1, arbitrary: hostileString(40) },
).filter((tenant) => tenant.trim() !== CANARY);
const slug = fc.oneof({ weight: 3, arbitrary: fc.constantFrom("ada", "ada", "ghost", "ADA", "ada-2") }, { weight: 2, arbitrary: hostileString() });
const sessionKey = fc.oneof({ weight: 3, arbitrary: fc.constantFrom("first", "new-one", "a.b:c_d") }, { weight: 2, arbitrary: hostileString() });
const runId = fc.oneof(fc.constant(known).map((ids) => ids.aRun), fc.constant(known).map((ids) => ids.canaryRun), fc.uuid(), hostileString());
const text = fc.oneof(fc.string({ minLength: 1 }), hostileString());
const optional = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });
/** A body of the shape each route expects, with fuzzed field values. */
const shapedBodies = {
  agent: fc.record({ name: text, role: text, slug: optional(slug), persona: optional(text), model: optional(fc.constantFrom("offline", "", "claude-x", "openai:gpt", "../../etc")) }),
  update: fc.record({ name: optional(text), role: optional(text), instructions: optional(text), model: fc.option(fc.string(), { nil: null }) }),
  session: fc.record({ title: text }),
  run: fc.record({ message: text, sessionKey: optional(sessionKey), idempotencyKey: optional(text) }),
  chat: fc.record({
    model: fc.oneof({ weight: 4, arbitrary: slug.map((value) => `agent:${value}`) }, { weight: 1, arbitrary: fc.string() }),
    messages: fc.array(fc.record({ role: fc.constantFrom("user", "user", "system", "assistant", "x"), content: fc.oneof(text, fc.constant(null), fc.jsonValue({ maxDepth: 2 })) }), { maxLength: 3 }),
    stream: optional(fc.boolean()),
    stream_options: optional(fc.record({ include_usage: fc.boolean() })),
  }),
  hook: fc.record({ agent: slug, message: text, sessionKey: optional(sessionKey), idempotencyKey: optional(text) }),
  none: fc.constant(undefined),
};
type BodyKind = keyof typeof shapedBodies;
const otherBody = fc.oneof(
  { weight: 6, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 1, arbitrary: fc.nat({ max: 20_000 }).map((depth) => "[".repeat(depth) + "]".repeat(depth)) },
  { weight: 1, arbitrary: fc.nat({ max: 20_000 }).map((depth) => '{"a":'.repeat(depth) + "1" + "}".repeat(depth)) },
  { weight: 1, arbitrary: fc.constant("x".repeat(1024 * 1024 + 10)) },
  { weight: 2, arbitrary: fc.constantFrom("{", "null", '"text"', "[]", '{"__proto__":{"polluted":true}}', "\u0000", '{"message":"a","message":"b"}') },
);

type Template = (values: { slug: string; key: string; runId: string }) => string;
/** Methods, body shape, URL and how often to pick the route. */
const routes: [string[], BodyKind, Template, number][] = [
  [["GET", "POST", "PUT"], "agent", () => "/v1/agents", 3],
  [["GET", "PATCH", "DELETE"], "update", ({ slug }) => `/v1/agents/${slug}`, 3],
  [["GET"], "none", ({ slug }) => `/v1/agents/${slug}/sessions`, 2],
  [["GET", "PATCH", "DELETE"], "session", ({ slug, key }) => `/v1/agents/${slug}/sessions/${key}`, 4],
  [["POST"], "none", ({ slug, key }) => `/v1/agents/${slug}/sessions/${key}/abort`, 2],
  [["POST"], "run", ({ slug }) => `/v1/agents/${slug}/runs`, 6],
  [["GET"], "none", ({ runId }) => `/v1/runs/${runId}`, 2],
  [["GET"], "none", ({ runId, key }) => `/v1/runs/${runId}/events?after=${key}`, 2],
  [["POST"], "none", ({ runId }) => `/v1/runs/${runId}/abort`, 2],
  [["POST"], "chat", () => "/v1/chat/completions", 5],
  [["POST"], "hook", () => "/hooks/agent", 4],
  [["DELETE"], "none", () => "/v1/tenant", 1],
  [["GET", "POST"], "none", ({ slug }) => `/${slug}`, 1],
];

const request = fc.record({
  route: fc.oneof(...routes.map(([, , , weight], index) => ({ weight, arbitrary: fc.constant(index) }))),
  method: fc.nat({ max: 2 }),
  slug: urlSegment(slug),
  key: urlSegment(sessionKey),
  runId: urlSegment(runId),
  tenant: fc.option(tenantHeader, { nil: null, freq: 12 }),
  auth: fc.oneof(
    { weight: 8, arbitrary: fc.constant("bearer") },
    { weight: 1, arbitrary: fc.constantFrom("header", "missing", "wrong", "lowercase", "both-wrong-first") },
  ),
  sessionHeader: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: sessionKey }),
  lastEventId: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.oneof(fc.string(), fc.constantFrom("-1", "1e3", "0x10", "9".repeat(400))) }),
  accept: fc.constantFrom("application/json", "text/event-stream", "*/*"),
  shaped: fc.record(shapedBodies),
  bodyKind: fc.constantFrom("shaped", "shaped", "shaped", "shaped", "other", "none"),
  other: otherBody,
});

type RequestInput = typeof request extends fc.Arbitrary<infer T> ? T : never;

function headersFor(input: RequestInput): Headers | undefined {
  try {
    const headers = new Headers({ accept: input.accept });
    if (input.tenant !== null) headers.append("x-tenant-id", input.tenant);
    if (input.auth === "bearer") headers.set("authorization", `Bearer ${TOKEN}`);
    if (input.auth === "lowercase") headers.set("authorization", `bearer   ${TOKEN}  `);
    if (input.auth === "header") headers.set("x-clawdbot-token", TOKEN);
    if (input.auth === "wrong") headers.set("authorization", `Bearer ${TOKEN}x`);
    if (input.auth === "both-wrong-first") {
      headers.set("authorization", "Bearer nope");
      headers.set("x-clawdbot-token", TOKEN);
    }
    if (input.sessionHeader !== undefined) headers.set("x-session-key", input.sessionHeader);
    if (input.lastEventId !== undefined) headers.set("last-event-id", input.lastEventId);
    if (input.bodyKind !== "none") headers.set("content-type", "application/json");
    return headers;
  } catch {
    return undefined; // not a valid HTTP header value: no client can send it
  }
}

describe("gateway HTTP under fuzzed input", () => {
  it("never answers 5xx, always answers errors as JSON, touches only the acting tenant and never leaks the canary", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 6 }), async (batch) => {
        // DELETE /v1/tenant may have erased the acting tenant; give it an agent again so batches reach deep routes.
        if ((await h.request("GET", "/v1/agents/ada", { tenant: TENANT_A })).status === 404) expect((await h.createAgent(TENANT_A)).status).toBe(201);
        const before = await snapshotTree(h.dataDir);
        const acting = new Set<string>();
        const started: [string, string][] = [];
        for (const input of batch) {
          const [methods, bodyKind, template] = routes[input.route]!;
          const method = methods[input.method % methods.length]!;
          const url = template({ slug: input.slug, key: input.key, runId: input.runId });
          const headers = headersFor(input);
          if (!headers) continue;
          const tenant = headers.get("x-tenant-id")?.trim();
          if (tenant && UUID_PATTERN.test(tenant)) acting.add(tenant);
          let response: Response;
          try {
            const value = input.bodyKind === "shaped" ? input.shaped[bodyKind] : input.bodyKind === "other" ? input.other : undefined;
            const body = value === undefined ? undefined : typeof value === "string" ? value : JSON.stringify(value);
            response = await h.gateway.app.request(url, { method, headers, body });
          } catch (error) {
            if (error instanceof TypeError) continue; // the URL itself is unusable by any client
            throw error;
          }
          const context = `${method} ${url.slice(0, 200)} tenant=${JSON.stringify(input.tenant?.slice(0, 80))} auth=${input.auth}`;
          const runHeader = response.headers.get("x-run-id");
          if (runHeader && tenant) started.push([tenant, runHeader]);
          const text = await expectWellFormed(response, context);
          expect(text.includes(SECRET), `${context} leaked the canary`).toBe(false);
          if (response.status === 202 && tenant) started.push([tenant, RunInfo.parse(JSON.parse(text)).runId]);
        }
        expect(acting.has(CANARY)).toBe(false);
        for (const [tenant, id] of started) {
          try {
            await h.gateway.runs.get(tenant, id).done;
          } catch {
            // the run's tenant was erased meanwhile
          }
        }
        const changed = changedPaths(before, await snapshotTree(h.dataDir));
        expect(changesOutside(changed, acting)).toEqual([]);
      }),
      fuzzParameters(60),
    );
    // The canary tenant is intact and still works.
    const history = await h.request("GET", "/v1/agents/ada/sessions/first", { tenant: CANARY });
    expect(history.status).toBe(200);
    expect(await history.text()).toContain(SECRET);
  });

  it("answers every WebSocket frame of A's connection with one well-formed response, never B's data", async () => {
    const params = fc.record(
      {
        agent: slug,
        sessionKey,
        message: text,
        runId,
        after: fc.oneof(fc.nat(), fc.integer(), fc.double()),
        idempotencyKey: text,
        tenantId: fc.constant(CANARY),
      },
      { requiredKeys: [] },
    );
    const frame = fc.oneof(
      { weight: 6, arbitrary: fc.record({ type: fc.constant("req"), id: fc.string({ minLength: 1, maxLength: 20 }), method: fc.oneof(fc.constantFrom(...WS_METHODS), fc.constantFrom("__proto__", "constructor", "toString", "hasOwnProperty"), fc.string()), params: fc.oneof(params, fc.jsonValue({ maxDepth: 2 })) }).map((value) => JSON.stringify(value)) },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)) },
      { weight: 1, arbitrary: fc.oneof(fc.string(), fc.constantFrom("", "{", "[".repeat(50_000), '{"type":"req","id":"x"}', '{"id":"only-id"}')) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 8 }), async (frames) => {
        const sent: unknown[] = [];
        const { agents, sessions, runs } = h.gateway;
        const connection = new WsConnection(TENANT_A, { agents, sessions, runs, logger: quietLogger }, (out) => sent.push(out));
        try {
          for (const raw of frames) {
            const responsesBefore = sent.filter((out) => (out as { type: string }).type === "res").length;
            await connection.receive(raw);
            const responses = sent.filter((out) => (out as { type: string }).type === "res");
            expect(responses.length, `one response to ${raw.slice(0, 120)}`).toBe(responsesBefore + 1);
            const response = WsServerFrame.parse(responses.at(-1));
            if (response.type === "res" && !response.ok) {
              expect(ERROR_CODES as readonly string[]).toContain(response.error.code);
              expect(response.error.code).not.toBe("internal_error");
            }
          }
          // Let forwarded run events arrive, then check nothing of the canary's came through.
          await new Promise((resolve) => setTimeout(resolve, 20));
          expect(JSON.stringify(sent).includes(SECRET)).toBe(false);
          for (const out of sent) WsServerFrame.parse(out);
        } finally {
          connection.close();
        }
      }),
      fuzzParameters(80),
    );
  });
});
