import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, resolveEmbeddedConfig } from "./embedded-config";

const home = os.homedir();

describe("resolveEmbeddedConfig", () => {
  it("fills every default with absolute, user-writable paths and a generated token", () => {
    const config = resolveEmbeddedConfig({}, "/somewhere");
    expect(config.port).toBe(3000);
    expect(config.gatewayUrl).toBe("http://127.0.0.1:18789");
    expect(config.tenantDataDir).toBe(path.join(home, ".workforce", "tenants"));
    expect(config.pgliteDataDir).toBe(path.join(home, ".workforce", "db"));
    expect(config.hookToken.length).toBeGreaterThanOrEqual(40);
    expect(config.hookTokenGenerated).toBe(true);
    expect(resolveEmbeddedConfig({}, "/somewhere").hookToken).not.toBe(config.hookToken);
  });

  it("resolves a relative TENANT_DATA_DIR once, against the start directory, and says so", () => {
    const config = resolveEmbeddedConfig({ TENANT_DATA_DIR: "./data/tenants" }, "/srv/app");
    expect(config.tenantDataDir).toBe("/srv/app/data/tenants");
    expect(config.notes.join("\n")).toContain("/srv/app/data/tenants");
  });

  it("honours the guide's variables", () => {
    const config = resolveEmbeddedConfig(
      {
        PORT: "8080",
        CLAWDBOT_GATEWAY_URL: "http://localhost:19999",
        CLAWDBOT_HOOK_TOKEN: "configured-token",
        TENANT_DATA_DIR: "/data/tenants",
        PGLITE_DATA_DIR: "/data/db",
        DATABASE_URL: "postgresql://db/workforce",
      },
      "/",
    );
    expect(config).toMatchObject({
      port: 8080,
      gatewayHost: "127.0.0.1",
      gatewayPort: 19999,
      hookToken: "configured-token",
      hookTokenGenerated: false,
      tenantDataDir: "/data/tenants",
      pgliteDataDir: "/data/db",
      databaseUrl: "postgresql://db/workforce",
    });
  });

  it("names each bad variable and its fix", () => {
    let message = "";
    try {
      resolveEmbeddedConfig({ PORT: "eighty", CLAWDBOT_GATEWAY_URL: "not a url" }, "/");
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as Error).message;
    }
    expect(message).toContain('PORT="eighty"');
    expect(message).toContain("CLAWDBOT_GATEWAY_URL");
    expect(message).toContain("Fix:");
  });
});
