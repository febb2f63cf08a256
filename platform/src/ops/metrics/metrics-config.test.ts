import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../config";

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env, "/home/ada");
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("the platform's METRICS_* configuration", () => {
  it("serves metrics to nobody unless told", () => {
    expect(loadConfig({}, "/home/ada").metrics).toEqual({ token: undefined, port: undefined, bind: "127.0.0.1" });
  });

  it("reads the token and a port of its own with its interface", () => {
    expect(loadConfig({ METRICS_TOKEN: "a-long-enough-metrics-token", METRICS_PORT: "9465", METRICS_BIND: "0.0.0.0" }, "/home/ada").metrics).toEqual({
      token: "a-long-enough-metrics-token",
      port: 9465,
      bind: "0.0.0.0",
    });
  });

  it("refuses a short token, a port that is not one, and the platform's own port, naming each", () => {
    expect(problemsOf({ METRICS_TOKEN: "short" })).toEqual([expect.stringContaining("METRICS_TOKEN must be at least 16 characters")]);
    expect(problemsOf({ METRICS_PORT: "lots" })).toEqual([expect.stringContaining("METRICS_PORT: must be a port number")]);
    expect(problemsOf({ METRICS_PORT: "3000" })).toEqual([expect.stringContaining("METRICS_PORT: 3000 is the platform's own PORT")]);
  });
});
