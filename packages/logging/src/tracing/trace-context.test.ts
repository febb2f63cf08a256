import { describe, expect, it } from "vitest";
import { formatTraceparent, parseTraceparent, tracingSettingsFrom } from "./trace-context";

describe("traceparent", () => {
  it("round-trips a valid header and refuses malformed or all-zero ids", () => {
    const header = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const parsed = parseTraceparent(header);
    expect(parsed).toEqual({ traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331" });
    expect(formatTraceparent(parsed!)).toBe(header);
    for (const bad of [undefined, "", "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01", `00-${"0".repeat(32)}-b7ad6b7169203331-01`, "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01", "00-abc-def-01"]) {
      expect(parseTraceparent(bad)).toBeUndefined();
    }
  });
});

describe("tracing settings", () => {
  it("are off (undefined) without an endpoint, whatever else is set", () => {
    expect(tracingSettingsFrom({ OTEL_SERVICE_NAME: "x", OTEL_EXPORTER_OTLP_HEADERS: "a=b" }, "gateway")).toBeUndefined();
  });

  it("follow the specification: base endpoint + /v1/traces, the traces endpoint as is, headers URL-decoded, service name", () => {
    expect(tracingSettingsFrom({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" }, "gateway")).toEqual({
      url: "http://collector:4318/v1/traces",
      serviceName: "gateway",
      headers: {},
      scheduleDelayMs: 5_000,
    });
    const settings = tracingSettingsFrom(
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://ignored:4318",
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://otlp.example.com/custom/traces",
        OTEL_EXPORTER_OTLP_HEADERS: "api-key=a%20b%3Dc, x-team = ops ,broken",
        OTEL_SERVICE_NAME: "wf-platform",
        OTEL_BSP_SCHEDULE_DELAY: "250",
      },
      "platform",
    );
    expect(settings).toEqual({ url: "https://otlp.example.com/custom/traces", serviceName: "wf-platform", headers: { "api-key": "a b=c", "x-team": "ops" }, scheduleDelayMs: 250 });
  });

  it("refuse a non-http endpoint and a bad delay, without echoing the headers", () => {
    expect(() => tracingSettingsFrom({ OTEL_EXPORTER_OTLP_ENDPOINT: "grpc://collector:4317" }, "gateway")).toThrow(/not an http\(s\) URL/);
    expect(() => tracingSettingsFrom({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_BSP_SCHEDULE_DELAY: "soon", OTEL_EXPORTER_OTLP_HEADERS: "k=secret-value" }, "gateway")).toThrow(
      /^OTEL_BSP_SCHEDULE_DELAY must be a positive whole number/,
    );
  });
});
