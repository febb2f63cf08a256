import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { createLogContext, createLogger, REQUEST_ID_HEADER, requestIdFrom, requestLogging, serviceLineFormatter, withFields } from "./index";

function capture() {
  const lines: string[] = [];
  return { destination: { write: (line: string) => void lines.push(line) }, lines, parsed: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe("createLogger", () => {
  it("writes one JSON object per line with the service, level name, time, message and fields", () => {
    const out = capture();
    const logger = createLogger({ service: "gateway", destination: out.destination });
    logger.info("listening", { port: 18789 });
    logger.error("run failed", new Error("boom"), { runId: "r1" });
    const [info, error] = out.parsed();
    expect(info).toMatchObject({ service: "gateway", level: "info", msg: "listening", port: 18789 });
    expect(Date.parse(String(info?.time))).not.toBeNaN();
    expect(error).toMatchObject({ level: "error", msg: "run failed", runId: "r1", err: { message: "boom", type: "Error" } });
  });

  it("drops lines below LOG_LEVEL", () => {
    const out = capture();
    const logger = createLogger({ service: "platform", level: "warn", destination: out.destination });
    logger.info("not written");
    logger.debug("nor this");
    logger.warn("written");
    expect(out.parsed().map((line) => line.msg)).toEqual(["written"]);
  });

  it("adds child and withFields fields, and the current context's", () => {
    const out = capture();
    const context = createLogContext();
    const logger = createLogger({ service: "gateway", context, destination: out.destination });
    context.run({ requestId: "req-1" }, () => {
      context.annotate({ tenantId: "t1", userId: undefined });
      withFields(logger.child({ component: "runs" }), { runId: "r9" }).warn("slow");
    });
    logger.info("outside");
    const [inside, outside] = out.parsed();
    expect(inside).toMatchObject({ requestId: "req-1", tenantId: "t1", component: "runs", runId: "r9" });
    expect(inside).not.toHaveProperty("userId");
    expect(outside).not.toHaveProperty("requestId");
  });

  it("never writes a known secret or anything shaped like a credential, wherever it appears", () => {
    const out = capture();
    const hookToken = 'hook"token\\with-quotes-1234';
    const logger = createLogger({ service: "gateway", secrets: [hookToken, "short"], destination: out.destination });
    const jwt = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ";
    const apiKey = "wf_Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0";
    const providerKey = "sk-ant-api03-abcdefghijklmnopqrstuvwxyz";
    logger.error(`called with ${hookToken}`, new Error(`upstream said: Bearer ${jwt}; key ${providerKey}`), { header: `Bearer ${apiKey}` });
    logger.warn("database", { url: "postgres://workforce:pa55word-secret@db:5432/workforce" });
    logger.info("login", { password: "correct horse battery", body: { password: "hunter2hunter2", apiKey } });
    logger.info("a short note");
    const text = out.lines.join("");
    for (const secret of [hookToken, JSON.stringify(hookToken).slice(1, -1), jwt, apiKey, providerKey, "pa55word-secret", "correct horse battery", "hunter2hunter2"]) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain("short"); // too short to be a secret: left alone
    expect(out.parsed()[1]).toMatchObject({ url: "postgres://workforce:[redacted]@db:5432/workforce" });
  });
});

describe("request ids", () => {
  it("keeps a short, plain X-Request-Id and replaces anything else", () => {
    expect(requestIdFrom("abc-123_x.y:z")).toBe("abc-123_x.y:z");
    for (const bad of ["", "a".repeat(129), "has space", 'quote"', "new\nline", "ünïcode"]) {
      expect(requestIdFrom(bad, () => "generated")).toBe("generated");
    }
    expect(requestIdFrom(undefined)).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("requestLogging", () => {
  function app() {
    const out = capture();
    const context = createLogContext();
    const logger = createLogger({ service: "platform", context, destination: out.destination });
    const hono = new Hono();
    hono.use("*", requestLogging({ logger, context }));
    hono.get("/v1/agents/:agent", (c) => {
      context.annotate({ tenantId: "tenant-1" });
      logger.info("inside the handler");
      return c.json({ agent: c.req.param("agent") });
    });
    hono.get("/fails", () => {
      throw new Error("kaput");
    });
    hono.onError((error, c) => {
      logger.error("unexpected", error);
      return c.json({ error: { code: "internal_error", message: "internal" } }, 500);
    });
    return { hono, out };
  }

  it("returns the request id and writes one access line with the route template, never the query", async () => {
    const { hono, out } = app();
    const response = await hono.request("/v1/agents/ada?token=secret-in-query", { headers: { [REQUEST_ID_HEADER]: "trace-42" } });
    expect(response.status).toBe(200);
    expect(response.headers.get(REQUEST_ID_HEADER)).toBe("trace-42");
    const [inside, access] = out.parsed();
    expect(inside).toMatchObject({ msg: "inside the handler", requestId: "trace-42", tenantId: "tenant-1" });
    expect(access).toMatchObject({ msg: "request", method: "GET", route: "/v1/agents/:agent", status: 200, requestId: "trace-42", tenantId: "tenant-1" });
    expect(typeof access?.durationMs).toBe("number");
    expect(out.lines.join("")).not.toContain("secret-in-query");
  });

  it("generates an id for an unsafe one, and logs failures with it", async () => {
    const { hono, out } = app();
    const response = await hono.request("/fails", { headers: { [REQUEST_ID_HEADER]: `bad id","level":"fatal` } });
    expect(response.status).toBe(500);
    const requestId = response.headers.get(REQUEST_ID_HEADER);
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    const [error, access] = out.parsed();
    expect(error).toMatchObject({ level: "error", requestId, err: { message: "kaput" } });
    expect(access).toMatchObject({ route: "/fails", status: 500, requestId });
  });
});

describe("serviceLineFormatter (npm start)", () => {
  const record = JSON.stringify({ level: "warn", time: "2026-01-01T12:00:00.000Z", service: "gateway", msg: "slow disk", requestId: "r1" });

  it("passes JSON records on and wraps any other line into one when not on a terminal", () => {
    const format = serviceLineFormatter({ pretty: false, color: false, now: () => new Date("2026-01-01T12:00:01.000Z") });
    expect(format("gateway", record, false)).toBe(record);
    expect(JSON.parse(format("platform", "node:internal/modules crashed", true))).toEqual({
      level: "error",
      time: "2026-01-01T12:00:01.000Z",
      service: "platform",
      msg: "node:internal/modules crashed",
    });
  });

  it("prints records for a person on a terminal, fields included", () => {
    const format = serviceLineFormatter({ pretty: true, color: false });
    const line = format("gateway", record, false);
    expect(line).toMatch(/WARN: slow disk/);
    expect(line).toContain('requestId: "r1"');
    expect(line).not.toContain("{");
    expect(format("web", "vite v8 building…", false)).toBe("vite v8 building…");
  });
});
