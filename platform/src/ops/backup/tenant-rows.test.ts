/**
 * A tenant's rows go back in an order their references allow: an agent before its tool modes,
 * grants and approvals, an MCP server before its grants (alphabetically `agent_tool_modes` and
 * `agent_tool_grants` come first and were refused).
 */
import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type OpenDatabase } from "../../db/open-database";
import { withSystem } from "../../db/scopes";
import { dumpTenantRows, restoreTenantRows } from "./tenant-rows";

let source: OpenDatabase;
let target: OpenDatabase;
let tenantId: string;

beforeAll(async () => {
  [source, target] = await Promise.all([openDatabase({ pgliteDataDir: "memory://" }), openDatabase({ pgliteDataDir: "memory://" })]);
  tenantId = await withSystem(source.system, async (trx) => {
    const [tenant] = await trx.insertInto("tenants").values({ name: "Acme" }).returning("id").execute();
    const [user] = await trx.insertInto("users").values({ email: "ada@example.com", password_hash: "x" }).returning("id").execute();
    const id = tenant!.id;
    await trx.insertInto("memberships").values({ tenant_id: id, user_id: user!.id, role: "owner" }).execute();
    await trx.insertInto("agents").values({ tenant_id: id, slug: "ada", name: "Ada" }).execute();
    const serverId = randomUUID();
    await trx.insertInto("mcp_servers").values({ id: serverId, tenant_id: id, name: "Tools", namespace: "tools", url: "https://tools.example/mcp", transport: "streamable-http", auth: "none", created_by: user!.id, updated_by: user!.id }).execute();
    await trx.insertInto("agent_tool_grants").values({ id: randomUUID(), tenant_id: id, agent_slug: "ada", source: "mcp", server_id: serverId, tool: "echo", mode: "ask" }).execute();
    await trx.insertInto("agent_tool_modes").values({ tenant_id: id, agent_slug: "ada", tool: "write_file", mode: "ask", updated_by: user!.id, updated_at: new Date() }).execute();
    const at = new Date();
    await trx
      .insertInto("approvals")
      .values({ tenant_id: id, id: "approval-1", agent_slug: "ada", session_key: "s1", run_id: "r1", tool_call_id: "c1", tool: "write_file", input: JSON.stringify({ path: "a.md" }), requested_at: at, expires_at: at, updated_at: at })
      .execute();
    // A searchable chat: its `document` column is generated, so a restore must not try to write it.
    await trx
      .insertInto("session_search")
      .values({ tenant_id: id, agent_slug: "ada", session_key: "s1", title: "Quarterly figures", body: "user: how did the quarter go", message_count: 2, session_updated_at: at, indexed_at: at })
      .execute();
    return id;
  });
});
afterAll(async () => {
  await source?.close();
  await target?.close();
});

describe("a tenant's rows restored elsewhere", () => {
  it("bring back its agents' tool modes, grants, approvals and searchable chats", async () => {
    const rows = await dumpTenantRows(source.system, tenantId);
    const restored = await restoreTenantRows(target.system, rows);
    expect(restored.tables).toMatchObject({ agents: 1, mcp_servers: 1, agent_tool_grants: 1, agent_tool_modes: 1, approvals: 1, session_search: 1 });
    const approval = await withSystem(target.system, (trx) => trx.selectFrom("approvals").select(["id", "input", "status"]).executeTakeFirst());
    expect(approval).toEqual({ id: "approval-1", input: { path: "a.md" }, status: "pending" });
    // The restored chat is found by a word of its title: Postgres recomputed its search document.
    const found = await withSystem(target.system, (trx) =>
      sql<{ session_key: string }>`select session_key from session_search where document @@ to_tsquery('simple', 'quarterly')`.execute(trx),
    );
    expect(found.rows).toEqual([{ session_key: "s1" }]);
  });
});
