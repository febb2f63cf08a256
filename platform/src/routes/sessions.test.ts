import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeGateway, type FakeGateway } from "../test-support/fake-gateway";
import { caller, createTestPlatform, errorOf, signUp, type TestPlatform } from "../test-support/test-platform";

let gateway: FakeGateway;
let platform: TestPlatform;
let call: ReturnType<typeof caller>;
let ada: { token: string };

beforeAll(async () => {
  gateway = await startFakeGateway({ reply: "I am Ada." });
  platform = await createTestPlatform({ gatewayUrl: gateway.url });
  call = caller(platform);
  ada = await signUp(platform, "ada@example.com");
  await call("POST", "/api/agents", { token: ada.token, body: { name: "Ada", role: "Analyst" } });
});
afterAll(async () => {
  await platform.close();
  await gateway.close();
});

describe("sessions", () => {
  it("renames and deletes through the gateway", async () => {
    const renamed = await call("PATCH", "/api/agents/ada/sessions/s1", { token: ada.token, body: { title: "Intro" } });
    expect(((await renamed.json()) as { session: { title: string } }).session.title).toBe("Intro");
    const empty = await call("PATCH", "/api/agents/ada/sessions/s1", { token: ada.token, body: { title: "" } });
    expect((await errorOf(empty)).message).toMatch(/^title:/);
    expect((await call("DELETE", "/api/agents/ada/sessions/s1", { token: ada.token })).status).toBe(204);
    expect((await call("DELETE", "/api/agents/ada/sessions/nope", { token: ada.token })).status).toBe(404);
  });

  it("exports a session as JSON", async () => {
    const response = await call("GET", "/api/agents/ada/sessions/s1/export?format=json", { token: ada.token });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-disposition")).toBe('attachment; filename="ada-s1.json"');
    const body = (await response.json()) as { session: { key: string }; entries: unknown[] };
    expect(body.session.key).toBe("s1");
    expect(body.entries).toHaveLength(3);
  });

  it("exports a session as Markdown", async () => {
    const response = await call("GET", "/api/agents/ada/sessions/s1/export?format=markdown", { token: ada.token });
    expect(response.headers.get("content-type")).toMatch(/^text\/markdown/);
    expect(response.headers.get("content-disposition")).toBe('attachment; filename="ada-s1.md"');
    const text = await response.text();
    expect(text).toContain("# Who are you?");
    expect(text).toContain("## You · 2025-01-01T00:00:00.000Z\n\nWho are you?");
    expect(text).toContain("## Ada · 2025-01-01T00:00:01.000Z\n\nI am Ada.");
    expect(text).toContain("**Tool call** `read_file`");
    expect(text).toContain("**Tool result** `read_file`\n\n```\nI am ada\n```");
  });

  it("rejects an unknown export format naming the field", async () => {
    const response = await call("GET", "/api/agents/ada/sessions/s1/export?format=pdf", { token: ada.token });
    expect((await errorOf(response)).message).toMatch(/^format:/);
  });
});
