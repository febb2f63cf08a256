/**
 * The web app in a real browser (Debian chromium via playwright-core) against the real platform
 * and gateway: sign up, create an agent, chat, and see the reply stream in.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findChromium, launchChromium } from "./browser";
import { repoRoot, startSystem, type RunningSystem } from "./system";

const chromiumPath = findChromium();
const screenshots = path.join(repoRoot, "e2e", "artifacts");
if (!chromiumPath && process.env.CI) {
  throw new Error("CI=true but no Chromium found: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH");
}
if (!chromiumPath) {
  process.stderr.write("web.test.ts: no Chromium found (apt-get install -y chromium, or set CHROMIUM_PATH); browser tests are not run\n");
}

let system: RunningSystem;
let browser: Browser;

describe.runIf(chromiumPath)("web app in Chromium", () => {
  beforeAll(async () => {
    await mkdir(screenshots, { recursive: true });
    // Slow enough that a reply visibly streams.
    system = await startSystem({ env: { OFFLINE_MODEL_DELAY_MS: "30" } });
    browser = await launchChromium(chromiumPath!);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await system?.stop();
  });

  async function signUp(page: Page, email: string): Promise<void> {
    await page.goto(system.platformUrl);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("a long enough password");
    await page.screenshot({ path: path.join(screenshots, "sign-up.png") });
    await page.getByRole("button", { name: "Sign up" }).click();
  }

  async function createAda(page: Page): Promise<void> {
    // With no agents yet, the create form is already open.
    await page.getByLabel("Name").fill("Ada");
    await page.getByLabel("Role").fill("Research Analyst");
    await page.getByLabel("Persona").fill("Precise, curious and kind.");
    await page.getByRole("button", { name: "Create agent" }).click();
    await page.getByTestId("agent-card").filter({ hasText: "Ada" }).getByRole("button", { name: "Chat" }).click();
  }

  it("signs up, creates an agent, and streams a chat reply", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await signUp(page, "ada.fan@example.com");
    await createAda(page);
    await expect.poll(() => page.getByTestId("offline-banner").isVisible()).toBe(true);

    await page.getByTestId("composer").fill("Who are you?");
    await page.getByRole("button", { name: "Send" }).click();
    const reply = page.getByTestId("message-assistant").last();
    // Part-way through, the reply is visible but not complete: it streams token by token.
    await page.locator("[data-testid=message-assistant][data-status=streaming]").filter({ hasText: /\w/ }).waitFor({ timeout: 10_000 });
    const early = (await reply.textContent()) ?? "";
    await page.locator("[data-testid=message-assistant][data-status=ok]").last().waitFor({ timeout: 20_000 });
    const full = (await reply.textContent()) ?? "";
    expect(full).toContain("Research Analyst");
    expect(full).toContain("Ada");
    expect(full.length).toBeGreaterThan(early.length);
    expect(await page.getByTestId("message-user").last().textContent()).toContain("Who are you?");
    await page.screenshot({ path: path.join(screenshots, "chat.png") });

    // The session is listed in the sidebar.
    await expect.poll(async () => (await page.getByTestId("sessions").textContent()) ?? "").toContain("Who are you?");
    await context.close();
  });

  it("completes a reply after a reload in the middle of it, and keeps the session across reloads", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await signUp(page, "reloader@example.com");
    await createAda(page);

    await page.getByTestId("composer").fill("Who are you?");
    await page.getByRole("button", { name: "Send" }).click();
    await page.locator("[data-testid=message-assistant][data-status=streaming]").filter({ hasText: /\w/ }).waitFor({ timeout: 10_000 });
    await page.reload();

    const done = page.locator("[data-testid=message-assistant][data-status=ok]").last();
    await done.waitFor({ timeout: 20_000 });
    const text = (await done.textContent()) ?? "";
    expect(text).toContain("Research Analyst");
    // Completed exactly once: no duplicated text from the replay, and one reply in the list.
    expect(text.split("I'm Ada").length - 1).toBe(1);
    await expect.poll(() => page.getByTestId("message-assistant").count()).toBe(1);
    await page.screenshot({ path: path.join(screenshots, "chat-after-reload.png") });

    // The session is in the sidebar and survives another reload.
    await expect.poll(async () => (await page.getByTestId("sessions").textContent()) ?? "").toContain("Who are you?");
    await page.reload();
    await expect.poll(async () => (await page.getByTestId("sessions").textContent()) ?? "", { timeout: 10_000 }).toContain("Who are you?");
    const sessionUrl = page.url();
    expect(sessionUrl).toContain("session=");

    // A user of another organisation sees neither the agent nor the session, even by URL.
    const stranger = await browser.newContext();
    const strangerPage = await stranger.newPage();
    await signUp(strangerPage, "stranger@example.com");
    await strangerPage.getByLabel("Name").waitFor();
    expect(await strangerPage.getByTestId("agent-card").count()).toBe(0);
    await strangerPage.goto(sessionUrl);
    await expect.poll(async () => (await strangerPage.getByTestId("error").first().textContent().catch(() => "")) ?? "", { timeout: 10_000 }).toMatch(/not.found|agent_not_found/i);
    expect(await strangerPage.getByTestId("message-assistant").count()).toBe(0);
    expect((await strangerPage.content()).includes("I'm Ada")).toBe(false);
    await stranger.close();
    await context.close();
  });

  it("shows a clear message for a wrong password", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(system.platformUrl);
    await page.getByLabel("Email").fill("nobody@example.com");
    await page.getByLabel("Password").fill("wrong password here");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(async () => (await page.getByTestId("error").textContent()) ?? "", { timeout: 10_000 }).toMatch(/invalid|password|credentials/i);
    await context.close();
  });
});
