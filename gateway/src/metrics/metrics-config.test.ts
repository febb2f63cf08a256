import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../config";

function problemsOf(env: Record<string, string>, flags = {}): string[] {
  try {
    loadConfig(env, flags, "/home/ada");
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("the gateway's METRICS_* configuration", () => {
  it("serves metrics to nobody unless told, and without tenant labels", () => {
    expect(loadConfig({}, {}, "/home/ada").metrics).toEqual({ access: { token: undefined, port: undefined, bind: "127.0.0.1" }, tenantLabels: false });
  });

  it("reads the token, a port of its own with its interface, and the tenant labels", () => {
    const config = loadConfig({ METRICS_TOKEN: " a-long-enough-metrics-token ", METRICS_PORT: "9464", METRICS_BIND: "0.0.0.0", METRICS_TENANT_LABELS: "1" }, {}, "/home/ada");
    expect(config.metrics).toEqual({ access: { token: "a-long-enough-metrics-token", port: 9464, bind: "0.0.0.0" }, tenantLabels: true });
  });

  it("refuses a short token, a port that is not one or is the gateway's own, and a tenant-label value it does not know, naming each", () => {
    expect(problemsOf({ METRICS_TOKEN: "short" })).toEqual([expect.stringContaining("METRICS_TOKEN must be at least 16 characters")]);
    expect(problemsOf({ METRICS_PORT: "lots" })).toEqual([expect.stringContaining("METRICS_PORT must be a port number")]);
    expect(problemsOf({ METRICS_PORT: "18789" })).toEqual([expect.stringContaining("METRICS_PORT 18789 is the gateway's own port")]);
    expect(problemsOf({ METRICS_PORT: "9000" }, { port: "9000" })).toEqual([expect.stringContaining("METRICS_PORT 9000 is the gateway's own port")]);
    expect(problemsOf({ METRICS_TENANT_LABELS: "yes" })).toEqual([expect.stringContaining("METRICS_TENANT_LABELS must be 1")]);
  });
});
