import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestPlatform, TEST_ORIGIN, type TestPlatform } from "../test-support/test-platform";
import { parseCorsOrigins } from "./cors-policy";

const CDN = "https://app.example.com";
let listed: TestPlatform;
let unlisted: TestPlatform;

beforeAll(async () => {
  listed = await createTestPlatform({ gatewayUrl: "http://127.0.0.1:9", parts: { corsOrigins: [CDN] } });
  unlisted = await createTestPlatform({ gatewayUrl: "http://127.0.0.1:9", database: listed.database });
});
afterAll(async () => {
  await unlisted.close();
  await listed.close();
});

const preflight = (platform: TestPlatform, path: string, origin: string) =>
  platform.app.request(`${TEST_ORIGIN}${path}`, {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "apikey,authorization,content-type,x-client-info,x-tenant-id" },
  });

describe("CORS (WORKFORCE_CORS_ORIGINS)", () => {
  it("lets a listed origin call the API and the auth API: preflight 204 with the headers supabase-js and the app send", async () => {
    for (const path of ["/api/agents", "/auth/v1/signup"]) {
      const answer = await preflight(listed, path, CDN);
      expect(answer.status).toBe(204);
      expect(answer.headers.get("access-control-allow-origin")).toBe(CDN);
      expect(answer.headers.get("access-control-allow-headers")).toMatch(/apikey.*x-tenant-id/);
      expect(answer.headers.get("vary")).toMatch(/origin/i);
    }
    const config = await listed.app.request(`${TEST_ORIGIN}/api/config`, { headers: { origin: CDN } });
    expect(config.status).toBe(200);
    expect(config.headers.get("access-control-allow-origin")).toBe(CDN);
    expect(config.headers.get("vary")).toMatch(/origin/i);
  });

  it("gives any other origin no Access-Control-Allow-Origin, and by default no origin at all", async () => {
    expect((await preflight(listed, "/api/agents", "https://evil.example")).headers.get("access-control-allow-origin")).toBeNull();
    expect((await preflight(unlisted, "/api/agents", CDN)).headers.get("access-control-allow-origin")).toBeNull();
    const config = await unlisted.app.request(`${TEST_ORIGIN}/api/config`, { headers: { origin: CDN } });
    expect(config.status).toBe(200);
    expect(config.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("reads the variable as origins, `*`, or a problem that names the fix", () => {
    expect(parseCorsOrigins(undefined)).toEqual({ ok: true, origins: [] });
    expect(parseCorsOrigins(" https://a.example , http://localhost:5173 ")).toEqual({ ok: true, origins: ["https://a.example", "http://localhost:5173"] });
    expect(parseCorsOrigins("*")).toEqual({ ok: true, origins: "*" });
    for (const bad of ["https://a.example/", "https://a.example/app", "a.example", "*,https://a.example", "ftp://a.example"]) {
      const parsed = parseCorsOrigins(bad);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.problem).toMatch(/^WORKFORCE_CORS_ORIGINS: /);
    }
  });
});
