/**
 * Issue 2's walking skeleton, end to end over HTTP against the real processes started the way a
 * user starts them (`npm start`): sign up, create Ada, ask "Who are you?", watch the reply stream,
 * then find the guide's layout on disk.
 */
import { readFile, readdir, stat } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SessionSummary, TranscriptEntry, TranscriptHeader } from "@workforce/protocol";
import { TestClient, readRunEvents, textOf } from "./client";
import { startSystem, type RunningSystem } from "./system";

let system: RunningSystem;

beforeAll(async () => {
  system = await startSystem();
}, 120_000);

afterAll(async () => {
  await system?.stop();
});

describe("walking skeleton", () => {
  it("serves health on both services", async () => {
    const platform = await fetch(`${system.platformUrl}/api/health`);
    expect(platform.status).toBe(200);
    expect(await platform.json()).toMatchObject({ status: "ok" });
    const gateway = await fetch(`${system.gatewayUrl}/`);
    expect(gateway.status).toBe(200);
    expect(await gateway.json()).toMatchObject({ status: "ok", dataDir: { path: system.tenantDataDir } });
  });

  it("signs up, creates Ada, streams a reply, and writes the guide's layout to disk", async () => {
    const client = new TestClient(system.platformUrl);
    await client.signUp("grace@example.com", "correct horse battery");

    const me = await client.json<{ tenants: { id: string; role: string }[] }>("GET", "/api/me");
    expect(me.status).toBe(200);
    expect(me.body.tenants).toHaveLength(1);
    const tenant = me.body.tenants[0]!;
    expect(tenant.role).toBe("owner");

    const created = await client.json("POST", "/api/agents", {
      name: "Ada",
      role: "Research Analyst",
      persona: "Precise, curious and kind.",
    });
    expect(created.status).toBe(201);
    expect(created.body.agent).toMatchObject({ slug: "ada", name: "Ada", role: "Research Analyst" });

    const response = await client.request("POST", "/api/agents/ada/messages", { message: "Who are you?" });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const events = await readRunEvents(response);

    const start = events[0];
    expect(start?.type).toBe("run-start");
    if (start?.type !== "run-start") throw new Error("no run-start");
    expect(start.model.offline).toBe(true);
    const deltas = events.filter((event) => event.type === "text-delta");
    expect(deltas.length).toBeGreaterThan(3); // streamed token by token, not in one piece
    const reply = textOf(events);
    expect(reply).toContain("Ada");
    expect(reply).toContain("Research Analyst");
    expect(reply).not.toMatch(/claude/i);
    const end = events.at(-1);
    expect(end).toMatchObject({ type: "run-end", status: "ok" });
    if (end?.type !== "run-end") throw new Error("no run-end");
    expect(end.usage.outputTokens).toBeGreaterThan(0);
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));

    // The guide's layout, under the tenant's own directory.
    const root = path.join(system.tenantDataDir, tenant.id);
    expect((await stat(path.join(root, "config.json"))).isFile()).toBe(true);
    const config = JSON.parse(await readFile(path.join(root, "config.json"), "utf8"));
    expect(JSON.stringify(config)).toContain('"ada"');
    const identity = await readFile(path.join(root, "workspace", "ada", "IDENTITY.md"), "utf8");
    expect(identity).toContain("Ada");
    expect(identity).toContain("Research Analyst");

    const sessionsDir = path.join(root, "agents", "ada", "sessions");
    const registry = JSON.parse(await readFile(path.join(sessionsDir, "sessions.json"), "utf8")) as Record<string, unknown>;
    const entry = SessionSummary.parse(registry[start.sessionKey]);
    expect(entry.sessionId).toBe(start.sessionId);
    expect(entry.messageCount).toBe(2);

    const lines = (await readFile(path.join(sessionsDir, `${start.sessionId}.jsonl`), "utf8")).trim().split("\n");
    TranscriptHeader.parse(JSON.parse(lines[0]!));
    const entries = lines.slice(1).map((line) => TranscriptEntry.parse(JSON.parse(line)));
    expect(entries.map((item) => item.type)).toEqual(["user", "assistant"]);
    const [user, assistant] = entries;
    expect(user?.type === "user" && user.content[0]?.text).toBe("Who are you?");
    expect(assistant?.type === "assistant" && assistant.content.map((block) => (block.type === "text" ? block.text : "")).join("")).toBe(reply);
    expect(assistant?.parentId).toBe(user?.id);

    // The session is listed through the API too, and nothing else sits beside the tenant dir.
    const sessions = await client.json<{ sessions: { key: string }[] }>("GET", "/api/agents/ada/sessions");
    expect(sessions.body.sessions.map((session) => session.key)).toEqual([start.sessionKey]);
    const tenants = (await readdir(system.tenantDataDir)).filter((name) => !name.startsWith("."));
    expect(tenants).toEqual([tenant.id]);
  });

  it("answers bad input with clear JSON errors", async () => {
    const anonymous = new TestClient(system.platformUrl);
    const badEmail = await anonymous.json("POST", "/auth/v1/signup", { email: "not-an-email", password: "long enough password" });
    expect(badEmail.status).toBe(400);
    expect(badEmail.body.error).toMatchObject({ code: "validation_failed" });
    expect(badEmail.body.error.message).toMatch(/email/i);

    const shortPassword = await anonymous.json("POST", "/auth/v1/signup", { email: "short@example.com", password: "abc" });
    expect(shortPassword.status).toBeGreaterThanOrEqual(400);
    expect(shortPassword.status).toBeLessThan(500);
    expect(shortPassword.body.error.code).toBe("weak_password");
    expect(shortPassword.body.error.message).toMatch(/password/i);

    const noToken = await anonymous.json("GET", "/api/agents");
    expect(noToken.status).toBe(401);
    expect(noToken.body.error.code).toBe("unauthorized");

    const client = new TestClient(system.platformUrl);
    await client.signUp("linus@example.com", "another good password");
    const unknown = await client.json("POST", "/api/agents/nobody/messages", { message: "hello?" });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: "agent_not_found" });
    expect(unknown.body.error.message).toContain("nobody");
  });

  // Last: it ends the shared system.
  it("stops both services cleanly on Ctrl-C", async () => {
    expect(await system.stop()).toBe(0);
    await expect(fetch(`${system.gatewayUrl}/`)).rejects.toThrow();
    await expect(fetch(`${system.platformUrl}/api/health`)).rejects.toThrow();
    expect(system.output()).toContain("stopping");
    // Not on a terminal, every line of npm start (launcher, gateway, platform) is a JSON log record.
    const lines = system.output().split("\n").filter((line) => line.trim() !== "");
    const services = new Set(lines.map((line) => (JSON.parse(line) as { service: string }).service));
    expect([...services].sort()).toEqual(["gateway", "platform", "workforce"]);
  });
});
