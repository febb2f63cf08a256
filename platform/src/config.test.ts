import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config";

describe("loadConfig", () => {
  it("uses embedded defaults under the home directory", () => {
    const config = loadConfig({}, "/home/ada");
    expect(config).toMatchObject({
      port: 3000,
      databaseUrl: undefined,
      pgliteDataDir: "/home/ada/.workforce/db",
      gatewayUrl: "http://127.0.0.1:18789",
      hookToken: undefined,
      tenantDataDir: "/home/ada/.workforce/tenants",
      gatewayWaitMs: 15_000,
      supabase: undefined,
    });
    expect(path.isAbsolute(config.webDistDir)).toBe(true);
    expect(config.webDistDir.endsWith(path.join("platform", "web", "dist"))).toBe(true);
  });

  it("offers Composio only with COMPOSIO_API_KEY, at Composio's endpoint unless COMPOSIO_BASE_URL says otherwise", () => {
    expect(loadConfig({}, "/home/ada").composio).toBeUndefined();
    expect(loadConfig({ COMPOSIO_BASE_URL: "http://127.0.0.1:9999" }, "/home/ada").composio).toBeUndefined();
    expect(loadConfig({ COMPOSIO_API_KEY: "ck" }, "/home/ada").composio).toEqual({ apiKey: "ck", baseUrl: "https://backend.composio.dev" });
    expect(loadConfig({ COMPOSIO_API_KEY: "ck", COMPOSIO_BASE_URL: "http://127.0.0.1:9999" }, "/home/ada").composio).toEqual({ apiKey: "ck", baseUrl: "http://127.0.0.1:9999" });
    expect(() => loadConfig({ COMPOSIO_API_KEY: "ck", COMPOSIO_BASE_URL: "backend.composio.dev" }, "/home/ada")).toThrow(/COMPOSIO_BASE_URL/);
  });

  it("reads the API rate limits, 600 requests a minute and 20 streams unless set, and rejects nonsense", () => {
    expect(loadConfig({}, "/home/ada").apiLimits).toEqual({ requestsPerMinute: 600, maxStreams: 20 });
    expect(loadConfig({ WORKFORCE_API_REQUESTS_PER_MINUTE: "120", WORKFORCE_API_MAX_STREAMS: "3" }, "/home/ada").apiLimits).toEqual({ requestsPerMinute: 120, maxStreams: 3 });
    const error = (() => {
      try {
        loadConfig({ WORKFORCE_API_REQUESTS_PER_MINUTE: "0", WORKFORCE_API_MAX_STREAMS: "lots" }, "/home/ada");
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      expect.stringMatching(/^WORKFORCE_API_REQUESTS_PER_MINUTE: must be a whole number of requests .* e\.g\. WORKFORCE_API_REQUESTS_PER_MINUTE=600/),
      expect.stringMatching(/^WORKFORCE_API_MAX_STREAMS: must be a whole number of streams/),
    ]);
  });

  it("names every bad variable and the fix", () => {
    let error: unknown;
    try {
      loadConfig({ TENANT_DATA_DIR: "./data/tenants", PORT: "http", CLAWDBOT_GATEWAY_URL: "localhost:18789", DATABASE_URL: "mysql://x" });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toMatch(/TENANT_DATA_DIR: must be an absolute path.*TENANT_DATA_DIR=\$HOME/);
    expect(message).toMatch(/PORT:/);
    expect(message).toMatch(/CLAWDBOT_GATEWAY_URL: must be an http\(s\) URL/);
    expect(message).toMatch(/DATABASE_URL: must start with postgres/);
  });

  it("honours the guide's variables", () => {
    const config = loadConfig({
      PORT: "4000",
      TENANT_DATA_DIR: "/data/tenants/",
      CLAWDBOT_GATEWAY_URL: "http://gateway:18789/",
      CLAWDBOT_HOOK_TOKEN: "secret",
      DATABASE_URL: "postgresql://postgres@127.0.0.1:5432/test",
      SUPABASE_URL: "https://project.supabase.co",
      SUPABASE_ANON_KEY: "anon",
      COMPOSIO_API_KEY: "c",
    });
    expect(config).toMatchObject({
      port: 4000,
      tenantDataDir: "/data/tenants",
      gatewayUrl: "http://gateway:18789",
      hookToken: "secret",
      databaseUrl: "postgresql://postgres@127.0.0.1:5432/test",
      supabase: { url: "https://project.supabase.co", anonKey: "anon" },
      composio: { apiKey: "c", baseUrl: "https://backend.composio.dev" },
    });
  });

  it("reads organisations' default limits with the gateway's names and defaults, refusing what the gateway would", () => {
    expect(loadConfig({}, "/home/ada").tenantDefaults).toEqual({ maxConcurrentRuns: 4, maxQueuedRuns: 200, diskMb: 2_048 });
    expect(loadConfig({ WORKFORCE_TENANT_MAX_CONCURRENT_RUNS: "2", WORKFORCE_TENANT_MAX_QUEUED_RUNS: "0", WORKFORCE_TENANT_DISK_MB: "0" }, "/home/ada").tenantDefaults).toEqual({
      maxConcurrentRuns: 2,
      maxQueuedRuns: 0,
      diskMb: 0,
    });
    expect(() => loadConfig({ WORKFORCE_TENANT_MAX_CONCURRENT_RUNS: "0", WORKFORCE_TENANT_DISK_MB: "lots" }, "/home/ada")).toThrow(
      /WORKFORCE_TENANT_MAX_CONCURRENT_RUNS: must be a whole number between 1 and 10000[\s\S]*WORKFORCE_TENANT_DISK_MB: must be a whole number/,
    );
  });
});
