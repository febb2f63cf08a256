/**
 * The webhook API's guarantees: an endpoint may only point where the operator's outbound policy
 * allows (at registration, and again at every connection, so DNS rebinding fails), one
 * organisation's events never reach another's endpoints nor its log, the signing secret is never
 * in a log line, a list, the audit log or the export, and the budget's 80% / 100% events arrive
 * once a month each. Real receiver, real platform logger, fake name resolution.
 */
import { randomUUID } from "node:crypto";
import { createLogContext } from "@workforce/logging";
import type { ResolvedAddress } from "@workforce/net-guard";
import type { UsageRecord, WebhookDeliveryView, WebhookEndpointView } from "@workforce/protocol";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withTenant } from "../db/scopes";
import { createPlatformLogger, errorReporter } from "../ops/log/platform-logger";
import { startFakeGateway, type FakeGateway } from "../test-support/fake-gateway";
import { caller, createTestPlatform, errorOf, joinAs, signUp, type TestPlatform } from "../test-support/test-platform";
import { startWebhookReceiver, type WebhookReceiver } from "../test-support/webhook-receiver";

const lines: string[] = [];
let gateway: FakeGateway;
let receiver: WebhookReceiver;
let platform: TestPlatform;
let call: ReturnType<typeof caller>;
let ada: { token: string; userId: string; tenantId: string };
let bea: { token: string; userId: string; tenantId: string };
/** What names resolve to here; `rebind.test` answers public first and loopback afterwards. */
let rebindAnswers = 0;
const resolve = async (hostname: string): Promise<ResolvedAddress[]> => {
  switch (hostname) {
    case "receiver.test":
      return [{ address: "127.0.0.1", family: 4 }];
    case "private.test":
      return [{ address: "10.0.0.7", family: 4 }];
    case "public.test":
      return [{ address: "93.184.216.34", family: 4 }];
    case "rebind.test":
      return [{ address: rebindAnswers++ === 0 ? "93.184.216.34" : "127.0.0.1", family: 4 }];
    default:
      throw Object.assign(new Error(`${hostname} does not resolve`), { code: "ENOTFOUND" });
  }
};

beforeAll(async () => {
  gateway = await startFakeGateway();
  receiver = await startWebhookReceiver();
  const logContext = createLogContext();
  const logger = createPlatformLogger({ LOG_LEVEL: "debug" }, { context: logContext, pretty: false, destination: { write: (line: string) => void lines.push(line) } });
  platform = await createTestPlatform({
    gatewayUrl: gateway.url,
    parts: {
      logger,
      logContext,
      logError: errorReporter(logger),
      // The operator allows one private host by name (what it resolves to): the receiver.
      integrations: { outbound: { allowPrivateNetwork: false, allowHosts: ["receiver.test"] } },
      webhooks: { resolve, maxEndpoints: 3 },
    },
  });
  call = caller(platform);
  ada = await signUp(platform, "ada@a.example");
  bea = await signUp(platform, "bea@b.example");
});
afterAll(async () => {
  await platform?.close();
  await receiver?.close();
  await gateway?.close();
});

const receiverUrl = (path: string) => `http://receiver.test:${new URL(receiver.origin).port}${path}`;

async function create(who: { token: string }, body: Record<string, unknown>): Promise<Response> {
  return call("POST", "/api/webhooks", { token: who.token, body });
}

async function created(who: { token: string }, body: Record<string, unknown>): Promise<{ endpoint: WebhookEndpointView; secret: string }> {
  const response = await create(who, body);
  expect(response.status).toBe(201);
  return (await response.json()) as { endpoint: WebhookEndpointView; secret: string };
}

async function deliveriesOf(who: { token: string }, endpointId: string): Promise<WebhookDeliveryView[]> {
  const response = await call("GET", `/api/webhooks/${endpointId}/deliveries`, { token: who.token });
  expect(response.status).toBe(200);
  return ((await response.json()) as { deliveries: WebhookDeliveryView[] }).deliveries;
}

async function runsEnded(who: { tenantId: string }, ...records: Partial<UsageRecord>[]): Promise<void> {
  const at = new Date().toISOString();
  const lines = records.map((overrides) =>
    JSON.stringify({ runId: randomUUID(), agent: "ada", sessionKey: "s", source: "http", model: "offline", status: "ok", inputTokens: 0, outputTokens: 0, queuedAt: at, endedAt: at, ...overrides }),
  );
  gateway.appendJournal(who.tenantId, lines.map((line) => `${line}\n`).join(""));
  await platform.ingest.sync(who.tenantId);
}

describe("where an endpoint may point", () => {
  it("refuses loopback, link-local and private addresses, and plain http across the internet, with the fix in the message", async () => {
    const refusals = [
      ["https://127.0.0.1/hook", 422, "outbound_blocked"],
      [`http://127.0.0.1:${new URL(receiver.origin).port}/hook`, 422, "outbound_blocked"],
      ["http://169.254.169.254/latest/meta-data", 422, "outbound_blocked"],
      ["https://[::ffff:169.254.169.254]/", 422, "outbound_blocked"],
      ["https://private.test/hook", 422, "outbound_blocked"],
      ["http://public.test/hook", 400, "webhook_url_not_https"],
      ["ftp://public.test/hook", 400, "validation_failed"],
      ["https://user:pass@public.test/hook", 400, "validation_failed"],
    ] as const;
    for (const [url, status, code] of refusals) {
      expect({ url, ...(await errorOf(await create(ada, { url }))) }).toMatchObject({ url, status, code });
    }
    const blocked = await errorOf(await create(ada, { url: "https://private.test/hook" }));
    expect(blocked.message).toContain("private.test:443 refused: resolves to 10.0.0.7");
    expect(blocked.message).toContain("WORKFORCE_OUTBOUND_ALLOW_HOSTS=private.test:443");
    expect(await errorOf(await create(ada, { url: "https://public.test/", eventTypes: ["run.exploded"] }))).toMatchObject({ status: 400, code: "validation_failed" });
    expect(await errorOf(await create(ada, { url: "https://public.test/", eventTypes: [] }))).toMatchObject({ status: 400, code: "validation_failed" });
    // Nothing was registered by any of them.
    const list = (await (await call("GET", "/api/webhooks", { token: ada.token })).json()) as { endpoints: unknown[]; limit: number };
    expect(list).toEqual({ endpoints: [], limit: 3 });
  });

  it("checks again at every connection: a name that turns private after registration is refused, and nothing reaches the address", async () => {
    const { endpoint } = await created(ada, { url: `https://rebind.test:${new URL(receiver.origin).port}/rebound` });
    const before = receiver.received.length;
    const test = await call("POST", `/api/webhooks/${endpoint.id}/test`, { token: ada.token });
    expect(test.status).toBe(202);
    await platform.jobs.runDue();
    expect(receiver.received.length).toBe(before);
    const [delivery] = await deliveriesOf(ada, endpoint.id);
    expect(delivery).toMatchObject({ status: "dead", attempts: 1, lastStatusCode: null });
    expect(delivery!.lastError).toMatch(/^outbound_blocked: Outbound connection to rebind\.test:\d+ refused: resolves to 127\.0\.0\.1, a loopback address/);
    // A test delivery does not count against the endpoint.
    expect((await (await call("GET", `/api/webhooks/${endpoint.id}`, { token: ada.token })).json()) as { endpoint: WebhookEndpointView }).toMatchObject({ endpoint: { enabled: true, consecutiveFailures: 0 } });
    expect((await call("DELETE", `/api/webhooks/${endpoint.id}`, { token: ada.token })).status).toBe(204);
  });

  it("delivers over plain http to the private host the operator allows", async () => {
    const { endpoint, secret } = await created(ada, { url: receiverUrl("/allowed") });
    await call("POST", `/api/webhooks/${endpoint.id}/test`, { token: ada.token });
    await platform.jobs.runDue();
    const request = receiver.received.find((each) => each.path === "/allowed");
    expect(request?.headers.host).toBe(`receiver.test:${new URL(receiver.origin).port}`);
    expect(new Webhook(secret).verify(request!.body, request!.headers as Record<string, string>)).toMatchObject({ type: "webhook.test" });
    expect((await call("DELETE", `/api/webhooks/${endpoint.id}`, { token: ada.token })).status).toBe(204);
  });

  it("lets an organisation have at most so many endpoints", async () => {
    const ids: string[] = [];
    for (let index = 0; index < 3; index += 1) ids.push((await created(ada, { url: `https://public.test/${index}` })).endpoint.id);
    expect(await errorOf(await create(ada, { url: "https://public.test/one-too-many" }))).toMatchObject({ status: 409, code: "webhook_limit_reached" });
    for (const id of ids) await call("DELETE", `/api/webhooks/${id}`, { token: ada.token });
  });
});

describe("between organisations", () => {
  it("an endpoint gets only its own organisation's events, and another organisation cannot see or touch it or its log", async () => {
    const adas = await created(ada, { url: receiverUrl("/ada") });
    const beas = await created(bea, { url: receiverUrl("/bea") });
    await runsEnded(bea, { sessionKey: "bea-secret-session" });
    await runsEnded(ada, { sessionKey: "ada-session" });
    await platform.jobs.runDue();
    const toAda = receiver.received.filter((request) => request.path === "/ada");
    const toBea = receiver.received.filter((request) => request.path === "/bea");
    expect(toAda.map((request) => (JSON.parse(request.body) as { data: { sessionKey: string } }).data.sessionKey)).toEqual(["ada-session"]);
    expect(toBea.map((request) => (JSON.parse(request.body) as { data: { sessionKey: string } }).data.sessionKey)).toEqual(["bea-secret-session"]);
    // Ada's secret does not verify what Bea's endpoint got.
    expect(() => new Webhook(adas.secret).verify(toBea[0]!.body, toBea[0]!.headers as Record<string, string>)).toThrow();

    const [beasDelivery] = await deliveriesOf(bea, beas.endpoint.id);
    for (const [method, path] of [
      ["GET", `/api/webhooks/${beas.endpoint.id}`],
      ["GET", `/api/webhooks/${beas.endpoint.id}/deliveries`],
      ["POST", `/api/webhooks/${beas.endpoint.id}/deliveries/${beasDelivery!.id}/redeliver`],
      ["PATCH", `/api/webhooks/${beas.endpoint.id}`],
      ["DELETE", `/api/webhooks/${beas.endpoint.id}`],
    ] as const) {
      const response = await call(method, path, { token: ada.token, ...(method === "PATCH" ? { body: { enabled: false } } : {}) });
      expect({ path, ...(await errorOf(response)) }).toMatchObject({ path, status: 404, code: "webhook_not_found" });
    }
    // Bea's delivery through Ada's own endpoint id is no delivery of it.
    expect(await errorOf(await call("POST", `/api/webhooks/${adas.endpoint.id}/deliveries/${beasDelivery!.id}/redeliver`, { token: ada.token }))).toMatchObject({
      status: 404,
      code: "webhook_delivery_not_found",
    });
    // Not even row-level security's bypass by a missing filter: Ada's transaction sees none of Bea's rows.
    const seen = await withTenant(platform.database.db, ada.tenantId, async (trx) => ({
      endpoints: await trx.selectFrom("webhook_endpoints").select("id").execute(),
      deliveries: await trx.selectFrom("webhook_deliveries").select("payload").execute(),
    }));
    expect(seen.endpoints.map((row) => row.id)).toEqual([adas.endpoint.id]);
    expect(JSON.stringify(seen.deliveries)).not.toContain("bea-secret-session");
    expect((await deliveriesOf(bea, beas.endpoint.id))[0]).toMatchObject({ status: "succeeded" });
    await call("DELETE", `/api/webhooks/${adas.endpoint.id}`, { token: ada.token });
    await call("DELETE", `/api/webhooks/${beas.endpoint.id}`, { token: bea.token });
  });

  it("is for owners and admins: members and API keys are refused", async () => {
    const member = await joinAs(platform, ada, "max@a.example", "member");
    expect(await errorOf(await call("GET", "/api/webhooks", { token: member.token, headers: { "x-tenant-id": ada.tenantId } }))).toMatchObject({ status: 403, code: "forbidden" });
    const admin = await joinAs(platform, ada, "amy@a.example", "admin");
    expect((await call("GET", "/api/webhooks", { token: admin.token, headers: { "x-tenant-id": ada.tenantId } })).status).toBe(200);
    const key = (await (await call("POST", "/api/keys", { token: ada.token, body: { name: "automation" } })).json()) as { secret: string };
    expect(await errorOf(await call("GET", "/api/webhooks", { token: key.secret }))).toMatchObject({ status: 403, code: "forbidden" });
    expect(await errorOf(await create({ token: key.secret }, { url: "https://public.test/" }))).toMatchObject({ status: 403, code: "forbidden" });
  });
});

describe("the signing secret", () => {
  it("is answered at creation and rotation only: never in a list, the audit log, the export, the secret list or a log line", async () => {
    const first = await created(ada, { url: receiverUrl("/secretive"), description: "Ops" });
    const rotated = (await (await call("POST", `/api/webhooks/${first.endpoint.id}/rotate-secret`, { token: ada.token, body: { previousSecretValidHours: 0 } })).json()) as {
      endpoint: WebhookEndpointView;
      secret: string;
    };
    expect(rotated.endpoint.previousSecretExpiresAt).toBeNull();
    await call("POST", `/api/webhooks/${first.endpoint.id}/test`, { token: ada.token });
    await platform.jobs.runDue();
    // With no overlap asked for, only the new secret signs.
    const request = receiver.received.find((each) => each.path === "/secretive")!;
    expect(new Webhook(rotated.secret).verify(request.body, request.headers as Record<string, string>)).toMatchObject({ type: "webhook.test" });
    expect(() => new Webhook(first.secret).verify(request.body, request.headers as Record<string, string>)).toThrow();

    const answers = await Promise.all(
      ["/api/webhooks", `/api/webhooks/${first.endpoint.id}`, `/api/webhooks/${first.endpoint.id}/deliveries`, "/api/audit", "/api/secrets", "/api/tenant/export"].map(async (path) => {
        const response = await call("GET", path, { token: ada.token });
        expect({ path, status: response.status }).toEqual({ path, status: 200 });
        return response.text();
      }),
    );
    const audit = answers[3]!;
    expect(audit).toContain("webhook.create");
    expect(audit).toContain("webhook.rotate_secret");
    expect(audit).toContain("webhook.test");
    const secretList = JSON.parse(answers[4]!) as { secrets: { name: string; hint: string }[] };
    expect(secretList.secrets).toContainEqual(expect.objectContaining({ name: `webhook/${first.endpoint.id}/signing`, hint: `…${rotated.secret.slice(-4)}` }));
    // The old secret is gone from the store, not just unused.
    expect(secretList.secrets.map((secret) => secret.name)).not.toContain(`webhook/${first.endpoint.id}/previous`);
    for (const secret of [first.secret, rotated.secret]) {
      const key = secret.slice("whsec_".length);
      for (const text of [...answers, ...lines]) expect(text).not.toContain(key);
    }
    expect(lines.length).toBeGreaterThan(0);
    await call("DELETE", `/api/webhooks/${first.endpoint.id}`, { token: ada.token });
  });
});

describe("budget.threshold", () => {
  it("is sent when the month's usage reaches 80% and then 100% of the budget, once each", async () => {
    const { endpoint, secret } = await created(bea, { url: receiverUrl("/budget"), eventTypes: ["budget.threshold"] });
    expect((await call("PUT", "/api/budget", { token: bea.token, body: { monthlyTokens: 1_000 } })).status).toBe(200);
    const thresholds = async () => {
      await platform.jobs.runDue();
      return receiver.received
        .filter((request) => request.path === "/budget")
        .map((request) => (new Webhook(secret).verify(request.body, request.headers as Record<string, string>) as { type: string; data: { threshold: number; usedTokens: number } }).data);
    };
    const month = new Date().toISOString().slice(0, 7);
    // Bea's earlier run (between organisations) used none; 500 is half.
    await runsEnded(bea, { inputTokens: 200, outputTokens: 300 });
    expect(await thresholds()).toEqual([]);
    await runsEnded(bea, { inputTokens: 150, outputTokens: 200 });
    expect(await thresholds()).toEqual([{ threshold: 80, month, usedTokens: 850, monthlyTokens: 1_000, periodStart: expect.any(String), periodEnd: expect.any(String) }]);
    await runsEnded(bea, { inputTokens: 50, outputTokens: 50 });
    expect(await thresholds()).toHaveLength(1);
    await runsEnded(bea, { inputTokens: 100, outputTokens: 0 }, { inputTokens: 5, outputTokens: 5 });
    expect((await thresholds()).map((data) => [data.threshold, data.usedTokens])).toEqual([
      [80, 850],
      [100, 1_060],
    ]);
    // Over budget, more runs tell nothing new this month; only the subscribed type reached this endpoint.
    await runsEnded(bea, { inputTokens: 10, outputTokens: 10 });
    expect(await thresholds()).toHaveLength(2);
    expect((await deliveriesOf(bea, endpoint.id)).map((delivery) => delivery.eventType)).toEqual(["budget.threshold", "budget.threshold"]);
  });
});
