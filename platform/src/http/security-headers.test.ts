import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStaticHandler } from "../static";
import { caller, createTestPlatform, type TestPlatform } from "../test-support/test-platform";
import { securityHeaders, type SecurityHeadersOptions } from "./security-headers";

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; " +
  "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/** The headers every response must carry, whatever answered it. */
function expectHardened(response: Response) {
  expect(response.headers.get("content-security-policy")).toBe(CSP);
  expect(response.headers.get("x-content-type-options")).toBe("nosniff");
  expect(response.headers.get("referrer-policy")).toBe("no-referrer");
  expect(response.headers.get("x-frame-options")).toBe("DENY");
}

let webDistDir: string;
let platform: TestPlatform;

beforeAll(async () => {
  webDistDir = await mkdtemp(path.join(os.tmpdir(), "workforce-web-dist-"));
  await mkdir(path.join(webDistDir, "assets"));
  await writeFile(path.join(webDistDir, "index.html"), '<!doctype html><div id="root"></div><script type="module" src="/assets/app.js"></script>');
  await writeFile(path.join(webDistDir, "assets", "app.js"), "export {};");
  platform = await createTestPlatform({ gatewayUrl: "http://127.0.0.1:9", parts: { webDistDir } });
});
afterAll(async () => {
  await platform.close();
  await rm(webDistDir, { recursive: true, force: true });
});

describe("security headers", () => {
  it("harden the web app, its assets and client-side routes, without HSTS over plain http", async () => {
    const call = caller(platform);
    for (const page of ["/", "/agents/ada", "/invite/some-token", "/auth/confirm?token_hash=abc&type=signup", "/assets/app.js"]) {
      const response = await call("GET", page);
      expect(response.status, page).toBe(200);
      expectHardened(response);
      expect(response.headers.get("strict-transport-security")).toBeNull();
      await response.body?.cancel();
    }
  });

  it("harden API answers, auth answers, errors and 404s too", async () => {
    const call = caller(platform);
    const answers = [
      [await call("GET", "/api/config"), 200],
      [await call("GET", "/auth/v1/settings"), 200],
      [await call("GET", "/api/me"), 401],
      [await call("GET", "/api/no-such-route", { token: "x" }), 401],
      [await call("POST", "/no-such-page"), 404],
      [await call("GET", "/assets/missing.js"), 404],
    ] as const;
    for (const [response, status] of answers) {
      expect(response.status).toBe(status);
      expectHardened(response);
      await response.body?.cancel();
    }
  });

  it("serve the API docs page with its stylesheet as a file, since inline styles are refused", async () => {
    const call = caller(platform);
    const docs = await call("GET", "/api/docs");
    const html = await docs.text();
    expect(html).not.toMatch(/<style|style=/i);
    expect(html).toContain('<link rel="stylesheet" href="/api/docs.css">');
    const css = await call("GET", "/api/docs.css");
    expect(css.headers.get("content-type")).toMatch(/^text\/css/);
    expect(await css.text()).toContain("border-collapse");
  });
});

describe("security headers by deployment", () => {
  // The middleware alone on a small app: the platform above already shows it is mounted everywhere.
  function appWith(options: SecurityHeadersOptions, root: string) {
    const app = new Hono();
    app.use("*", securityHeaders(options));
    const serveStatic = createStaticHandler(root);
    app.get("*", async (c) => (await serveStatic(c)) ?? c.notFound());
    return app;
  }

  it("leave a stricter policy that a route sets for itself", async () => {
    const app = new Hono();
    app.use("*", securityHeaders({ publicUrl: undefined, supabaseUrl: undefined }));
    app.get("/outbox", (c) => {
      c.header("Content-Security-Policy", "default-src 'none'");
      return c.html("<p>mail</p>");
    });
    const response = await app.request("/outbox");
    expect(response.headers.get("content-security-policy")).toBe("default-src 'none'");
    expect(response.headers.get("x-frame-options")).toBe("DENY");
  });

  it("add Strict-Transport-Security when the platform is served over https", async () => {
    const response = await appWith({ publicUrl: "https://workforce.example.com", supabaseUrl: undefined }, webDistDir).request("/");
    expect(response.headers.get("strict-transport-security")).toBe("max-age=31536000; includeSubDomains");
    expectHardened(response);
  });

  it("let the web app connect to hosted Supabase, and show a page without inline styles when the app is not built", async () => {
    const emptyDist = await mkdtemp(path.join(os.tmpdir(), "workforce-web-empty-"));
    try {
      const response = await appWith({ publicUrl: undefined, supabaseUrl: "https://project.supabase.co/" }, emptyDist).request("/");
      expect(response.headers.get("content-security-policy")).toBe(CSP.replace("connect-src 'self'", "connect-src 'self' https://project.supabase.co"));
      const html = await response.text();
      expect(html).toContain("The web app has not been built yet");
      expect(html).not.toMatch(/<style|style=/i);
    } finally {
      await rm(emptyDist, { recursive: true, force: true });
    }
  });
});
