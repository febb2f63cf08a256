/**
 * GDPR in practice, against the real processes: an owner exports the organisation (database rows
 * and every transcript) and then erases it; its directory is gone from TENANT_DATA_DIR, its
 * members lose access, and another organisation is untouched.
 */
import { access, readdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestClient, readRunEvents, textOf } from "./client";
import { startSystem, type RunningSystem } from "./system";

let system: RunningSystem;

beforeAll(async () => {
  system = await startSystem();
}, 120_000);

afterAll(async () => {
  await system?.stop();
});

async function organisationWithAChat(email: string) {
  const client = new TestClient(system.platformUrl);
  await client.signUp(email, "a long enough password");
  const me = await client.json<{ tenants: { id: string; name: string }[] }>("GET", "/api/me");
  const tenant = me.body.tenants[0]!;
  expect((await client.json("POST", "/api/agents", { name: "Ada", role: "Research Analyst" })).status).toBe(201);
  const events = await readRunEvents(await client.request("POST", "/api/agents/ada/messages", { message: "Who are you?" }));
  return { client, tenant, reply: textOf(events) };
}

describe("tenant export and erasure", () => {
  it("exports everything, then erases the organisation from the database and the disk", async () => {
    const doomed = await organisationWithAChat("leaving@example.com");
    const other = await organisationWithAChat("staying@example.com");
    const doomedDir = path.join(system.tenantDataDir, doomed.tenant.id);
    await access(path.join(doomedDir, "config.json"));

    const exported = await doomed.client.json("GET", "/api/tenant/export");
    expect(exported.status).toBe(200);
    expect(exported.body.tenant.id).toBe(doomed.tenant.id);
    const sessions = exported.body.agents[0].sessions;
    expect(sessions).toHaveLength(1);
    const texts = JSON.stringify(sessions[0].entries);
    expect(texts).toContain("Who are you?");
    expect(texts).toContain(JSON.stringify(doomed.reply).slice(1, -1));
    expect(JSON.stringify(exported.body)).not.toContain(other.tenant.id);

    const wrongName = await doomed.client.json("DELETE", "/api/tenant", { confirm: "not the name" });
    expect(wrongName.status).toBe(400);
    await access(doomedDir); // still there

    const erased = await doomed.client.json("DELETE", "/api/tenant", { confirm: doomed.tenant.name });
    expect(erased.status).toBe(200);
    expect(erased.body.deleted).toMatchObject({ tenantId: doomed.tenant.id, gatewayData: "tenant" });
    await expect(access(doomedDir)).rejects.toThrow();
    expect(await readdir(system.tenantDataDir)).not.toContain(doomed.tenant.id);

    // The former owner no longer reaches it; the other organisation is untouched.
    const after = await doomed.client.json<{ tenants: unknown[] }>("GET", "/api/me");
    expect(after.body.tenants).toEqual([]);
    const forbidden = await doomed.client.request("GET", "/api/agents", undefined, { "x-tenant-id": doomed.tenant.id });
    expect([403, 404]).toContain(forbidden.status);
    const otherSessions = await other.client.json<{ sessions: unknown[] }>("GET", "/api/agents/ada/sessions");
    expect(otherSessions.body.sessions).toHaveLength(1);
    await access(path.join(system.tenantDataDir, other.tenant.id, "config.json"));
  });
});
