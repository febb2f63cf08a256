import { describe, expect, it } from "vitest";
import { OPERATIONS } from "../openapi-document";
import { createTestPlatform } from "../test-support/test-platform";

describe("OpenAPI", () => {
  it("describes every route with schemas, and serves a readable docs page", async () => {
    const platform = await createTestPlatform({ gatewayUrl: "http://127.0.0.1:9" });
    try {
      const response = await platform.app.request("http://platform.test/api/openapi.json");
      expect(response.status).toBe(200);
      const document = (await response.json()) as {
        openapi: string;
        servers: { url: string }[];
        paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> } }>>;
      };
      expect(document.openapi).toBe("3.0.3");
      expect(document.servers).toEqual([{ url: "http://platform.test" }]);
      expect(Object.keys(document.paths)).toHaveLength(new Set(OPERATIONS.map((operation) => operation.path)).size);
      const createAgent = document.paths["/api/agents"]?.post?.requestBody?.content["application/json"]?.schema;
      expect(Object.keys(createAgent?.properties ?? {})).toEqual(expect.arrayContaining(["name", "role", "persona", "instructions"]));
      const deleteAgent = (document.paths["/api/agents/{slug}"] as Record<string, { operationId?: string; description?: string; "x-workforce-access"?: unknown }>).delete;
      expect(deleteAgent?.operationId).toBe("agents.delete");
      expect(deleteAgent?.["x-workforce-access"]).toEqual({ operation: "agents.delete", level: "tenant", roles: ["owner", "admin"], apiKeyScope: "agents:write", note: "deletes its chats too" });
      expect(deleteAgent?.description).toContain("Roles: owners and admins. API keys: with the `agents:write` scope.");
      const docs = await platform.app.request("http://platform.test/api/docs");
      expect(docs.headers.get("content-type")).toMatch(/text\/html/);
      const page = await docs.text();
      expect(page).toContain("/api/agents/{slug}/messages");
      expect(page).toMatch(/<tr data-operation="agents\.create">.*Roles: owners and admins\./);
    } finally {
      await platform.close();
    }
  });

  it("documents every route the app serves", async () => {
    const platform = await createTestPlatform({ gatewayUrl: "http://127.0.0.1:9" });
    try {
      // GoTrue's probes for supabase-js, the orchestrator's liveness probe, the local mail outbox (pages for people on this machine),
      // and where browsers come back from a third-party sign-in (redirects to the web app): not part of the API.
      const undocumented = new Set(["GET /auth/v1/health", "GET /auth/v1/settings", "GET /livez", "GET /outbox", "GET /outbox/style.css", "GET /outbox/{name}", "GET /oauth/composio/callback"]);
      const served = platform.app.routes
        .filter((route) => route.method !== "ALL")
        .map((route) => `${route.method} ${route.path.replace(/:(\w+)/g, "{$1}")}`)
        .filter((route) => !undocumented.has(route));
      const documented = new Set(OPERATIONS.map((operation) => `${operation.method.toUpperCase()} ${operation.path.split("?")[0]}`));
      expect(served.filter((route) => !documented.has(route))).toEqual([]);
    } finally {
      await platform.close();
    }
  });
});
