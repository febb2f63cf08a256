import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, DEFAULT_CLAUDE_MODEL, defaultAdvertiseUrl, loadConfig } from "./config";

describe("loadConfig", () => {
  it("reads the web search provider, and refuses one that cannot work", () => {
    expect(loadConfig({}, {}).webSearch).toBeUndefined();
    expect(loadConfig({ WEB_SEARCH_PROVIDER: "brave", WEB_SEARCH_API_KEY: "brave-token" }, {}).webSearch).toEqual({
      provider: "brave",
      apiKey: "brave-token",
      baseUrl: "https://api.search.brave.com",
    });
    expect(loadConfig({ WEB_SEARCH_PROVIDER: "searxng", WEB_SEARCH_URL: "http://searxng:8080/" }, {}).webSearch).toEqual({ provider: "searxng", baseUrl: "http://searxng:8080" });
    expect(() => loadConfig({ WEB_SEARCH_PROVIDER: "brave" }, {})).toThrow("WEB_SEARCH_PROVIDER=brave needs WEB_SEARCH_API_KEY");
    expect(() => loadConfig({ WEB_SEARCH_PROVIDER: "searxng" }, {})).toThrow("WEB_SEARCH_PROVIDER=searxng needs WEB_SEARCH_URL");
    expect(() => loadConfig({ WEB_SEARCH_PROVIDER: "google" }, {})).toThrow("WEB_SEARCH_PROVIDER must be brave or searxng");
    expect(() => loadConfig({ WEB_SEARCH_API_KEY: "stray" }, {})).toThrow("need WEB_SEARCH_PROVIDER");
  });

  it("reads where outgoing connections may go: public addresses only unless the operator allows more", () => {
    expect(loadConfig({}, {}).outbound).toEqual({ allowPrivateNetwork: false, allowHosts: [] });
    expect(loadConfig({ WORKFORCE_OUTBOUND_ALLOW_PRIVATE: "true", WORKFORCE_OUTBOUND_ALLOW_HOSTS: "127.0.0.1:11434,10.0.0.0/8" }, {}).outbound).toEqual({
      allowPrivateNetwork: true,
      allowHosts: ["127.0.0.1:11434", "10.0.0.0/8"],
    });
    const bad = () => loadConfig({ WORKFORCE_OUTBOUND_ALLOW_PRIVATE: "sometimes", WORKFORCE_OUTBOUND_ALLOW_HOSTS: "http://ollama/" }, {});
    expect(bad).toThrow(ConfigError);
    expect(bad).toThrow(/WORKFORCE_OUTBOUND_ALLOW_PRIVATE must be true or false/);
  });

  it("reads the cluster settings: where others reach this gateway, and the Redis key prefix", () => {
    expect(loadConfig({}, {})).toMatchObject({ advertiseUrl: undefined, redisKeyPrefix: "workforce:" });
    expect(loadConfig({ GATEWAY_ADVERTISE_URL: "http://gateway-1.gateways:18789/", REDIS_KEY_PREFIX: "prod:" }, {})).toMatchObject({
      advertiseUrl: "http://gateway-1.gateways:18789",
      redisKeyPrefix: "prod:",
    });
    const bad = () => loadConfig({ GATEWAY_ADVERTISE_URL: "ftp://gateway-1", REDIS_KEY_PREFIX: "has space" }, {});
    expect(bad).toThrow("GATEWAY_ADVERTISE_URL must be an http:// or https:// URL");
    expect(bad).toThrow("REDIS_KEY_PREFIX must be 1-64 letters");
    expect(defaultAdvertiseUrl("127.0.0.1", 18789, "node-7")).toBe("http://127.0.0.1:18789");
    expect(defaultAdvertiseUrl("0.0.0.0", 18789, "node-7")).toBe("http://node-7:18789");
  });

  it("defaults to loopback, port 18789, ~/.workforce/tenants and a current Claude model", () => {
    const config = loadConfig({}, {}, "/home/ada");
    expect(config).toMatchObject({
      port: 18789,
      bind: "127.0.0.1",
      dataDir: path.join("/home/ada", ".workforce", "tenants"),
      hookToken: undefined,
      anthropic: undefined,
      defaultModel: DEFAULT_CLAUDE_MODEL,
      offlineTokenDelayMs: 15,
      registryCacheSize: 1_000,
      retainedRuns: 500,
      redisUrl: undefined,
    });
  });

  it("reads the registry cache size and an optional REDIS_URL, rejecting malformed ones", () => {
    expect(loadConfig({ WORKFORCE_REGISTRY_CACHE: "50", WORKFORCE_RETAINED_RUNS: "100", REDIS_URL: "redis://127.0.0.1:6379" }, {})).toMatchObject({
      registryCacheSize: 50,
      retainedRuns: 100,
      redisUrl: "redis://127.0.0.1:6379",
    });
    const bad = () => loadConfig({ WORKFORCE_REGISTRY_CACHE: "0", REDIS_URL: "127.0.0.1:6379" }, {});
    expect(bad).toThrow("WORKFORCE_REGISTRY_CACHE must be a whole number between 1 and 1000000");
    expect(bad).toThrow("REDIS_URL must look like redis://127.0.0.1:6379");
  });

  it("reads providers and treats empty values as unset", () => {
    const config = loadConfig(
      { ANTHROPIC_API_KEY: "sk-test", ANTHROPIC_BASE_URL: "http://127.0.0.1:9999", OPENAI_BASE_URL: "http://127.0.0.1:11434/v1", CLAWDBOT_HOOK_TOKEN: " " },
      { port: "0" },
    );
    expect(config.anthropic).toEqual({ apiKey: "sk-test", baseURL: "http://127.0.0.1:9999" });
    expect(config.openai).toEqual({ baseURL: "http://127.0.0.1:11434/v1", apiKey: undefined });
    expect(config.hookToken).toBeUndefined();
    expect(config.port).toBe(0);
  });

  it("lists every problem with the variable name and the fix", () => {
    let caught: unknown;
    try {
      loadConfig({ TENANT_DATA_DIR: "data", OFFLINE_MODEL_DELAY_MS: "fast", ANTHROPIC_BASE_URL: "nope" }, { bind: "0.0.0.0", port: "99999" });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const message = (caught as ConfigError).message;
    expect(message).toContain("OFFLINE_MODEL_DELAY_MS");
    expect(message).toContain("ANTHROPIC_BASE_URL");
    expect(message).toContain("--port");
    expect(message).toContain('TENANT_DATA_DIR must be an absolute path, got "data"');
    expect(message).toContain("refusing to bind 0.0.0.0 without CLAWDBOT_HOOK_TOKEN");
  });
});
