/**
 * Outbound webhooks end to end inside the platform: run ends read from the (fake) gateway's usage
 * journal become events, fanned out to a real HTTP receiver that verifies every Standard Webhooks
 * signature with the `standardwebhooks` package. Time is fake: the job queue runs what is due at
 * the clock the test sets, so the retry schedule, a restart in the middle of it and the automatic
 * disabling after days of failures are seen as a receiver would see them.
 */
import { randomUUID } from "node:crypto";
import type { UsageRecord, WebhookDeliveryView, WebhookEndpointView } from "@workforce/protocol";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { OpenDatabase } from "../db/open-database";
import { startFakeGateway, type FakeGateway } from "../test-support/fake-gateway";
import { caller, createTestPlatform, openTestDatabase, signUp, TEST_ORIGIN, type TestPlatform } from "../test-support/test-platform";
import { startWebhookReceiver, type ReceivedWebhook, type WebhookReceiver } from "../test-support/webhook-receiver";

const PASSWORD = "correct horse battery";
let clock = new Date("2026-12-03T10:00:00.000Z");
const now = () => clock;
const setClock = (at: Date | string) => (clock = new Date(at));
const advance = (ms: number) => (clock = new Date(clock.getTime() + ms));

let gateway: FakeGateway;
let receiver: WebhookReceiver;
let database: OpenDatabase;
let platform: TestPlatform;
let ada: { token: string; userId: string; tenantId: string };

function startPlatform(): Promise<TestPlatform> {
  return createTestPlatform({
    gatewayUrl: gateway.url,
    now,
    database,
    // The operator allows the receiver's one private address (as WORKFORCE_OUTBOUND_ALLOW_HOSTS would).
    parts: { integrations: { outbound: { allowPrivateNetwork: false, allowHosts: [receiver.host] } } },
  });
}

beforeAll(async () => {
  gateway = await startFakeGateway();
  receiver = await startWebhookReceiver({ now });
  database = await openTestDatabase();
  platform = await startPlatform();
  ada = await signUp(platform, "ada@hooks.example", PASSWORD);
});
afterAll(async () => {
  await platform?.close();
  await database?.close();
  await receiver?.close();
  await gateway?.close();
});

/** A fresh access token at the current fake time (tokens issued days earlier have expired). */
async function token(email = "ada@hooks.example"): Promise<string> {
  const response = await platform.app.request(`${TEST_ORIGIN}/auth/v1/token?grant_type=password`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await caller(platform)(method, path, { token: await token(), body });
  const text = await response.text();
  return { status: response.status, body: (text === "" ? undefined : JSON.parse(text)) as T };
}

async function createEndpoint(path: string, extra: Record<string, unknown> = {}): Promise<{ endpoint: WebhookEndpointView; secret: string }> {
  const created = await api<{ endpoint: WebhookEndpointView; secret: string }>("POST", "/api/webhooks", { url: `${receiver.origin}${path}`, ...extra });
  expect(created.status).toBe(201);
  return created.body;
}

async function deliveries(endpointId: string): Promise<WebhookDeliveryView[]> {
  const page = await api<{ deliveries: WebhookDeliveryView[] }>("GET", `/api/webhooks/${endpointId}/deliveries`);
  expect(page.status).toBe(200);
  return page.body.deliveries;
}

async function endpoint(id: string): Promise<WebhookEndpointView> {
  return (await api<{ endpoint: WebhookEndpointView }>("GET", `/api/webhooks/${id}`)).body.endpoint;
}

/** A run ended on the gateway (a line in its usage journal), read by the platform: a run.completed event. */
async function runEnded(overrides: Partial<UsageRecord> = {}): Promise<string> {
  const runId = randomUUID();
  const at = clock.toISOString();
  const record: UsageRecord = { runId, agent: "ada", sessionKey: "s1", source: "http", model: "offline", status: "ok", inputTokens: 3, outputTokens: 4, queuedAt: at, endedAt: at, ...overrides };
  gateway.appendJournal(ada.tenantId, `${JSON.stringify(record)}\n`);
  await platform.ingest.sync(ada.tenantId);
  return runId;
}

/** Verifies a request as a receiver whose clock agrees with the platform's (the library checks the timestamp against Date.now()). */
function verify(secret: string, request: ReceivedWebhook): { type: string; timestamp: string; data: Record<string, unknown> } {
  vi.useFakeTimers({ toFake: ["Date"], now: request.at });
  try {
    return new Webhook(secret).verify(request.body, request.headers as Record<string, string>) as { type: string; timestamp: string; data: Record<string, unknown> };
  } finally {
    vi.useRealTimers();
  }
}

const to = (path: string) => receiver.received.filter((request) => request.path === path);

describe("outbound webhooks", () => {
  it("signs each delivery so the receiver verifies it, with the event's id as webhook-id, and logs it", async () => {
    const { endpoint: created, secret } = await createEndpoint("/signed", { description: "CRM" });
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(created).toMatchObject({ url: `${receiver.origin}/signed`, description: "CRM", eventTypes: null, enabled: true, secretHint: `…${secret.slice(-4)}` });

    const runId = await runEnded();
    await platform.jobs.runDue();
    const [request] = to("/signed");
    expect(request).toBeDefined();
    const payload = verify(secret, request!);
    expect(payload).toEqual({ type: "run.completed", timestamp: clock.toISOString(), data: expect.objectContaining({ runId, agent: "ada", status: "ok", inputTokens: 3, outputTokens: 4 }) });
    expect(request!.headers["content-type"]).toBe("application/json");
    expect(request!.headers["webhook-timestamp"]).toBe(String(Math.floor(clock.getTime() / 1000)));
    // Another secret does not verify it.
    expect(() => verify(`whsec_${Buffer.alloc(32, 7).toString("base64")}`, request!)).toThrow(/No matching signature/);

    const [delivery] = await deliveries(created.id);
    expect(delivery).toMatchObject({ eventType: "run.completed", status: "succeeded", attempts: 1, lastStatusCode: 200, lastError: null, responseExcerpt: "ok", nextAttemptAt: null, payload: request!.body });
    expect(request!.headers["webhook-id"]).toBe(delivery!.eventId);
    // Fanning the same event out again (a job run twice) delivers nothing more.
    await platform.jobs.runDue();
    expect(to("/signed")).toHaveLength(1);
    await api("DELETE", `/api/webhooks/${created.id}`);
  });

  it("retries a failing receiver with growing delays, across a restart of the platform, until it answers 2xx", async () => {
    const { endpoint: created, secret } = await createEndpoint("/flaky");
    let failures = 3;
    receiver.answer = (request) => (request.path === "/flaky" && failures-- > 0 ? { status: 500, body: "database down" } : { status: 204 });
    await runEnded();
    await platform.jobs.runDue();

    const delays: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      const [delivery] = await deliveries(created.id);
      expect(delivery).toMatchObject({ status: "failed", attempts: attempt, lastStatusCode: 500, lastError: "answered 500", responseExcerpt: "database down" });
      const next = new Date(delivery!.nextAttemptAt!);
      delays.push(next.getTime() - new Date(delivery!.lastAttemptAt!).getTime());
      // Nothing is sent before it is due.
      setClock(new Date(next.getTime() - 1_000));
      await platform.jobs.runDue();
      expect(to("/flaky")).toHaveLength(attempt);
      if (attempt === 2) {
        // The platform goes down and another comes up on the same database: the retry is still due.
        await platform.close();
        platform = await startPlatform();
      }
      setClock(next);
      await platform.jobs.runDue();
      expect(to("/flaky")).toHaveLength(attempt + 1);
    }
    // 5 s, 5 min, 30 min, each plus at most 10% jitter.
    expect(delays[0]).toBeGreaterThanOrEqual(5_000);
    expect(delays[0]).toBeLessThanOrEqual(5_500);
    expect(delays[1]).toBeGreaterThanOrEqual(300_000);
    expect(delays[1]).toBeLessThanOrEqual(330_000);
    expect(delays[2]).toBeGreaterThanOrEqual(1_800_000);
    expect(delays[2]).toBeLessThanOrEqual(1_980_000);

    const [delivery] = await deliveries(created.id);
    expect(delivery).toMatchObject({ status: "succeeded", attempts: 4, lastStatusCode: 204, lastError: null, nextAttemptAt: null });
    const attempts = to("/flaky");
    // Every attempt is the same event, signed again with its own timestamp, and verifies.
    expect(new Set(attempts.map((request) => request.headers["webhook-id"]))).toEqual(new Set([delivery!.eventId]));
    expect(new Set(attempts.map((request) => request.headers["webhook-timestamp"])).size).toBe(4);
    expect(new Set(attempts.map((request) => request.body)).size).toBe(1);
    for (const request of attempts) expect(verify(secret, request).type).toBe("run.completed");
    expect((await endpoint(created.id)).consecutiveFailures).toBe(0);
    await api("DELETE", `/api/webhooks/${created.id}`);
  });

  it("gives up after 8 attempts over about 32 hours, disables an endpoint that failed for 3 days, and delivers again by hand", async () => {
    const { endpoint: created, secret } = await createEndpoint("/down", { eventTypes: ["run.failed"] });
    receiver.answer = (request) => (request.path === "/down" ? { status: 503, body: "maintenance" } : { status: 200 });
    const firstAt = clock.getTime();
    await runEnded({ status: "error" });
    // A completed run is not a type this endpoint subscribed to.
    await runEnded({ status: "ok" });
    await platform.jobs.runDue();
    for (let attempt = 1; attempt < 8; attempt += 1) {
      const [delivery] = await deliveries(created.id);
      expect(delivery).toMatchObject({ status: "failed", attempts: attempt });
      setClock(delivery!.nextAttemptAt!);
      await platform.jobs.runDue();
    }
    const [dead] = await deliveries(created.id);
    expect(dead).toMatchObject({ eventType: "run.failed", status: "dead", attempts: 8, lastStatusCode: 503, nextAttemptAt: null });
    const span = clock.getTime() - firstAt;
    expect(span).toBeGreaterThanOrEqual(31.5 * 3_600_000);
    expect(span).toBeLessThan(35 * 3_600_000);
    expect(to("/down")).toHaveLength(8);
    // Failing for a day and a third is not yet failing for days.
    expect(await endpoint(created.id)).toMatchObject({ enabled: true, consecutiveFailures: 8, failingSince: new Date(firstAt).toISOString() });

    // Three days after the first failure, the next failures turn it off.
    setClock(new Date(firstAt + 3 * 24 * 3_600_000));
    await runEnded({ status: "aborted" });
    await platform.jobs.runDue();
    const [second] = await deliveries(created.id);
    setClock(second!.nextAttemptAt!);
    await platform.jobs.runDue();
    const disabled = await endpoint(created.id);
    expect(disabled).toMatchObject({ enabled: false, consecutiveFailures: 10 });
    expect(disabled.disabledReason).toMatch(/^every delivery attempt failed since .* \(10 in a row; the last: answered 503\)$/);
    expect((await deliveries(created.id))[0]).toMatchObject({ status: "dead", attempts: 2, lastError: "answered 503" });
    const audit = await api<{ entries: { action: string; target: string; actor: { id: string | null }; details: Record<string, unknown> }[] }>("GET", "/api/audit");
    expect(audit.body.entries.find((entry) => entry.action === "webhook.disable" && entry.target === created.id)).toMatchObject({ actor: { id: null }, details: { automatic: true, consecutiveFailures: 10 } });
    // While it is off, events are not queued for it, and nothing can be sent to it.
    await runEnded({ status: "error" });
    await platform.jobs.runDue();
    expect(await deliveries(created.id)).toHaveLength(2);
    expect((await api<{ error: { code: string } }>("POST", `/api/webhooks/${created.id}/test`)).body.error.code).toBe("webhook_disabled");
    expect((await api<{ error: { code: string } }>("POST", `/api/webhooks/${created.id}/deliveries/${dead!.id}/redeliver`)).body.error.code).toBe("webhook_disabled");

    // The receiver is fixed; an admin turns the endpoint on and redelivers the dead delivery.
    receiver.answer = () => ({ status: 200, body: "thanks" });
    const enabled = await api<{ endpoint: WebhookEndpointView }>("PATCH", `/api/webhooks/${created.id}`, { enabled: true });
    expect(enabled.body.endpoint).toMatchObject({ enabled: true, disabledReason: null, disabledAt: null, consecutiveFailures: 0, failingSince: null });
    const redelivered = await api<{ delivery: WebhookDeliveryView }>("POST", `/api/webhooks/${created.id}/deliveries/${dead!.id}/redeliver`);
    expect(redelivered.status).toBe(202);
    expect(redelivered.body.delivery).toMatchObject({ id: dead!.id, status: "pending" });
    await platform.jobs.runDue();
    const last = to("/down").at(-1)!;
    expect(last.headers["webhook-id"]).toBe(dead!.eventId);
    expect(verify(secret, last).type).toBe("run.failed");
    expect((await deliveries(created.id)).find((delivery) => delivery.id === dead!.id)).toMatchObject({ status: "succeeded", attempts: 9, lastStatusCode: 200, responseExcerpt: "thanks" });
    await api("DELETE", `/api/webhooks/${created.id}`);
  }, 60_000);

  it("brings a waiting retry forward when asked to redeliver it, and stops at once on 410 Gone", async () => {
    const { endpoint: created } = await createEndpoint("/gone");
    let answer = 500;
    receiver.answer = (request) => (request.path === "/gone" ? { status: answer } : { status: 200 });
    await runEnded();
    await platform.jobs.runDue();
    const [waiting] = await deliveries(created.id);
    expect(waiting).toMatchObject({ status: "failed", attempts: 1 });
    answer = 410;
    await api("POST", `/api/webhooks/${created.id}/deliveries/${waiting!.id}/redeliver`);
    await platform.jobs.runDue();
    expect(to("/gone")).toHaveLength(2);
    expect((await deliveries(created.id))[0]).toMatchObject({ status: "dead", attempts: 2, lastStatusCode: 410 });
    expect(await endpoint(created.id)).toMatchObject({ enabled: false, disabledReason: "the endpoint answered 410 Gone" });
    await api("DELETE", `/api/webhooks/${created.id}`);
  });

  it("sends a test event to one endpoint, and signs with both secrets while a rotation overlaps", async () => {
    receiver.answer = () => ({ status: 200 });
    const { endpoint: created, secret: first } = await createEndpoint("/rotating", { eventTypes: ["budget.threshold"] });
    const rotated = await api<{ endpoint: WebhookEndpointView; secret: string }>("POST", `/api/webhooks/${created.id}/rotate-secret`, {});
    expect(rotated.status).toBe(200);
    const second = rotated.body.secret;
    expect(second).not.toBe(first);
    expect(rotated.body.endpoint.secretHint).toBe(`…${second.slice(-4)}`);
    expect(new Date(rotated.body.endpoint.previousSecretExpiresAt!).getTime()).toBe(clock.getTime() + 24 * 3_600_000);

    const test = await api<{ delivery: WebhookDeliveryView }>("POST", `/api/webhooks/${created.id}/test`);
    expect(test.status).toBe(202);
    expect(test.body.delivery).toMatchObject({ eventType: "webhook.test", status: "pending" });
    await platform.jobs.runDue();
    const [request] = to("/rotating");
    expect(String(request!.headers["webhook-signature"]).split(" ")).toHaveLength(2);
    // A receiver holding either secret verifies it.
    expect(verify(first, request!)).toMatchObject({ type: "webhook.test", data: { endpointId: created.id } });
    expect(verify(second, request!).type).toBe("webhook.test");
    expect((await deliveries(created.id))[0]).toMatchObject({ id: test.body.delivery.id, status: "succeeded", attempts: 1 });

    // A day later the old secret no longer signs.
    advance(24 * 3_600_000 + 1_000);
    await api("POST", `/api/webhooks/${created.id}/test`);
    await platform.jobs.runDue();
    const later = to("/rotating").at(-1)!;
    expect(String(later.headers["webhook-signature"]).split(" ")).toHaveLength(1);
    expect(verify(second, later).type).toBe("webhook.test");
    expect(() => verify(first, later)).toThrow(/No matching signature/);
    await api("DELETE", `/api/webhooks/${created.id}`);
  });
});
