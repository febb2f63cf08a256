/**
 * The deployment guide's production web app: `cd platform/web && npm run build` with VITE_API_URL
 * naming the platform, `dist/` served by a separate static server (a CDN or nginx), and a browser
 * that signs up, signs in and chats across the two origins: CORS from WORKFORCE_CORS_ORIGINS, the
 * built app's own content security policy, the embedded auth on the API's origin.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveStatic, type StaticServer } from "./static-server";
import { freePort, repoRoot, type RunningSystem } from "./system";
import { DESKTOP, PASSWORD, askNewAgent, chromiumPath, startWebSystem, submitAuth } from "./web-support";

let system: RunningSystem;
let browser: Browser;
let stop: () => Promise<void>;
let cdn: StaticServer;
let distDir: string;

/** `npm run build` in platform/web, as the guide runs it, into `outDir`. */
async function buildWebApp(env: NodeJS.ProcessEnv, outDir: string): Promise<void> {
  const child = spawn("npm", ["run", "build", "--", "--outDir", outDir, "--logLevel", "warn"], {
    cwd: path.join(repoRoot, "platform", "web"),
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  if (code !== 0) throw new Error(`npm run build failed (${code}):\n${output}`);
}

describe.runIf(chromiumPath)("the built web app on its own origin", () => {
  beforeAll(async () => {
    // The CDN's address must be known to the platform before it starts (WORKFORCE_CORS_ORIGINS).
    const cdnPort = await freePort();
    const cdnOrigin = `http://127.0.0.1:${cdnPort}`;
    ({ system, browser, stop } = await startWebSystem({ WORKFORCE_CORS_ORIGINS: cdnOrigin, OFFLINE_MODEL_DELAY_MS: "5" }));
    distDir = await mkdtemp(path.join(os.tmpdir(), "wf-web-dist-"));
    // The guide's form: the platform's origin, no /api.
    await buildWebApp({ VITE_API_URL: system.platformUrl, VITE_SUPABASE_URL: system.platformUrl }, distDir);
    cdn = await serveStatic(distDir, cdnPort);
  }, 240_000);
  afterAll(async () => {
    await cdn?.close();
    await stop?.();
    if (distDir) await rm(distDir, { recursive: true, force: true });
  });

  it("carries its own content security policy allowing the API's origin", async () => {
    const html = await readFile(path.join(distDir, "index.html"), "utf8");
    const policy = /<meta http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1]?.replaceAll("&#39;", "'");
    expect(policy).toContain(`connect-src 'self' ${system.platformUrl};`);
    expect(policy).toContain("script-src 'self';");
  });

  it("signs up, chats, signs out and signs in again, every call going to the platform's origin", async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    const violations: string[] = [];
    const blocked: string[] = [];
    const apiCalls = new Set<string>();
    await context.exposeBinding("reportCspViolation", (_source, directive: string) => void violations.push(directive));
    await context.addInitScript({ content: `document.addEventListener("securitypolicyviolation", (event) => window.reportCspViolation(event.effectiveDirective));` });
    // A request the page itself cancelled (a stream closed on sign-out or navigation) is ERR_ABORTED;
    // a request CORS or CSP blocked fails with another reason, and that is what this list is for.
    context.on("requestfailed", (request) => {
      const reason = request.failure()?.errorText;
      if (reason !== "net::ERR_ABORTED") blocked.push(`${request.url()}: ${reason}`);
    });
    context.on("request", (request) => {
      const url = new URL(request.url());
      if (url.origin === system.platformUrl) apiCalls.add(url.pathname.replace(/\/[0-9a-f-]{36}/g, "/:id"));
    });
    const page = await context.newPage();

    await page.goto(`${cdn.url}/`);
    await submitAuth(page, "cdn@example.com", "Sign up");
    await page.getByRole("heading", { name: "Agents" }).waitFor({ timeout: 15_000 });
    await askNewAgent(page);
    await page.locator("[data-testid=message-assistant][data-status=ok]").waitFor({ timeout: 20_000 });
    expect(await page.getByTestId("message-assistant").textContent()).toContain("Research Analyst");
    expect(new URL(page.url()).origin).toBe(cdn.url);

    // A reload of an app route comes from the static server and resumes the session.
    await page.reload();
    await page.locator("[data-testid=message-assistant][data-status=ok]").waitFor({ timeout: 20_000 });

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("Email").fill("cdn@example.com");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Agents" }).waitFor({ timeout: 15_000 });

    expect(violations).toEqual([]);
    expect(blocked).toEqual([]);
    expect([...apiCalls]).toEqual(expect.arrayContaining(["/api/config", "/auth/v1/signup", "/auth/v1/token", "/api/me", "/api/agents/ada/messages"]));
    await context.close();
  });

  it("answers the listed origin's preflight, and no other origin's", async () => {
    const preflight = (origin: string) =>
      fetch(`${system.platformUrl}/api/me`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "GET", "access-control-request-headers": "authorization,x-tenant-id" },
      });
    const listed = await preflight(cdn.url);
    expect(listed.status).toBe(204);
    expect(listed.headers.get("access-control-allow-origin")).toBe(cdn.url);
    expect(listed.headers.get("access-control-allow-headers")).toContain("x-tenant-id");
    const stranger = await preflight("http://evil.example");
    expect(stranger.headers.get("access-control-allow-origin")).toBeNull();
  });
});
