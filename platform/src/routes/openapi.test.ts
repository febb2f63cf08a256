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
      const docs = await platform.app.request("http://platform.test/api/docs");
      expect(docs.headers.get("content-type")).toMatch(/text\/html/);
      expect(await docs.text()).toContain("/api/agents/{slug}/messages");
    } finally {
      await platform.close();
    }
  });

  it("documents every route the app serves", async () => {
    const platform = await createTestPlatform({ gatewayUrl: "http://127.0.0.1:9" });
    try {
      // Pages for people (docs, the local mail outbox) and GoTrue's probes.
      const undocumented = new Set([
        "GET /auth/v1/health",
        "GET /auth/v1/settings",
        "GET /api/openapi.json",
        "GET /api/docs",
        "GET /api/docs.css",
        "GET /outbox",
        "GET /outbox/style.css",
        "GET /outbox/{name}",
      ]);
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
