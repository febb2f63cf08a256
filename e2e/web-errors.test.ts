/**
 * Errors and dead ends as a user meets them, in Chromium against the real system (decision 045):
 * sentences instead of codes (the code only under "Details"), limits said before sending, no Retry
 * for what cannot work, not-found states for unknown agents and chats, and a gateway that goes away
 * and comes back: a banner without its address, the composer turned off, recovery by itself.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot, type RunningSystem } from "./system";
import { PHONE, apiAs, askNewAgent, chromiumPath, fitsWidth, gatewayPid, nav, organisationsOf, signedUpPage, startWebSystem } from "./web-support";

let system: RunningSystem;
let browser: Browser;
let stop: (() => Promise<void>) | undefined;

const artifacts = path.join(repoRoot, "e2e", "artifacts");
/** For a look at what the user saw (e2e/artifacts/, not committed). */
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(artifacts, `errors-${name}.png`) });

/** What the error says without opening "Details". */
const visibleText = (page: Page, testId = "error") => page.getByTestId(testId).first().innerText();

describe.runIf(chromiumPath)("errors and dead ends in Chromium", () => {
  beforeAll(async () => {
    await mkdir(artifacts, { recursive: true });
    ({ system, browser, stop } = await startWebSystem({ OFFLINE_MODEL_DELAY_MS: "5" }));
  }, 120_000);

  afterAll(async () => {
    await stop?.();
  });

  it("shows an unknown agent once, as a not-found state with a way back and no composer", async () => {
    const { context, page } = await signedUpPage(browser, system, "nobody-agent@example.com");
    await page.goto(`${system.platformUrl}/agents/nobody`);
    const notFound = page.getByTestId("not-found");
    await notFound.filter({ hasText: "There is no agent called “nobody”" }).waitFor({ timeout: 15_000 });
    expect(await notFound.count()).toBe(1);
    await shot(page, "unknown-agent");
    // A long unknown name fits a phone too.
    await page.setViewportSize(PHONE);
    await page.goto(`${system.platformUrl}/agents/${"a-very-long-agent-name-that-nobody-has".repeat(3)}`);
    await notFound.waitFor({ timeout: 15_000 });
    expect(await fitsWidth(page)).toBe(true);
    expect(await page.getByTestId("error").count()).toBe(0);
    expect(await page.getByTestId("composer").count()).toBe(0);
    // The Work tab of the same address says the same.
    await page.goto(`${system.platformUrl}/agents/nobody/work`);
    await notFound.filter({ hasText: "There is no agent called “nobody”" }).waitFor({ timeout: 15_000 });
    await notFound.getByRole("link", { name: "Back to agents" }).click();
    await page.getByRole("heading", { name: "Agents" }).waitFor();
    await context.close();
  });

  it("shows an unknown ?session= as a not-found state that offers a new chat", async () => {
    const { context, page } = await signedUpPage(browser, system, "no-session@example.com");
    await askNewAgent(page);
    await page.locator("[data-testid=message-assistant][data-status=ok]").waitFor({ timeout: 30_000 });
    await page.goto(`${system.platformUrl}/agents/ada?session=does-not-exist`);
    const notFound = page.getByTestId("not-found").filter({ hasText: "This chat does not exist" });
    await notFound.waitFor({ timeout: 15_000 });
    expect(await page.getByTestId("composer").count()).toBe(0);
    expect(await page.getByTestId("message-assistant").count()).toBe(0);
    await shot(page, "unknown-session");
    await notFound.getByRole("button", { name: "Start a new chat" }).click();
    await page.getByTestId("composer").waitFor();
    expect(new URL(page.url()).search).toBe("");
    await context.close();
  });

  it("says a used-up budget in words, with when it resets, the code only under Details, and no Retry", async () => {
    const email = "budget-error@example.com";
    const { context, page } = await signedUpPage(browser, system, email);
    const client = await apiAs(system, email);
    const [organisation] = await organisationsOf(client);
    const response = await client.request("PUT", "/api/budget", { monthlyTokens: 0 }, { "x-tenant-id": organisation!.id });
    expect(response.status).toBe(200);
    await askNewAgent(page);
    const error = page.getByTestId("message-assistant").getByTestId("error");
    await error.waitFor({ timeout: 30_000 });
    const text = await error.innerText();
    expect(text).toContain("Your organisation has used up its token budget.");
    expect(text).toMatch(/It resets on \S.*\./);
    // No code, no ISO timestamps and no token arithmetic until Details is opened.
    expect(text).not.toMatch(/budget_exceeded|T00:00:00|tokens since/);
    expect(await page.getByRole("button", { name: "Retry" }).count()).toBe(0);
    await error.getByText("Details").click();
    await shot(page, "budget-exceeded");
    expect(await error.innerText()).toContain("budget_exceeded");
    await context.close();
  });

  it("checks limits in the form before sending, and turns validator text into a readable sentence", async () => {
    const { context, page } = await signedUpPage(browser, system, "limits@example.com");
    // The message limit comes from the shared schema: one character over, and Send is off with the reason.
    await askNewAgent(page);
    await page.locator("[data-testid=message-assistant][data-status=ok]").waitFor({ timeout: 30_000 });
    await page.getByTestId("composer").fill("x".repeat(100_001));
    await page.getByTestId("composer-limit").filter({ hasText: "the limit is 100,000" }).waitFor();
    expect(await page.getByRole("button", { name: "Send", exact: true }).isDisabled()).toBe(true);
    await shot(page, "message-too-long");
    await page.getByTestId("composer").fill("short again");
    expect(await page.getByRole("button", { name: "Send", exact: true }).isDisabled()).toBe(false);

    // An empty invitation address is caught before sending, in words.
    await nav(page, "Team");
    await page.getByRole("button", { name: "Invite" }).click();
    await page.getByTestId("error").waitFor();
    expect(await visibleText(page)).toContain("Email address is required.");
    expect(await visibleText(page)).not.toMatch(/validation_failed|email:/);
    await shot(page, "invite-empty");
    await context.close();
  });

  it("with the gateway down: a banner without its address, the composer off, and recovery by itself", async () => {
    const { context, page } = await signedUpPage(browser, system, "gateway-away@example.com");
    await askNewAgent(page);
    await page.locator("[data-testid=message-assistant][data-status=ok]").waitFor({ timeout: 30_000 });
    const chatUrl = page.url();

    // The launcher stops everything when a child exits, so the gateway is paused, not killed.
    const gateway = gatewayPid(system);
    process.kill(gateway, "SIGSTOP");
    const banner = page.getByTestId("gateway-banner");
    try {
      await page.goto(chatUrl);
      await banner.waitFor({ timeout: 20_000 });
      const text = await banner.innerText();
      expect(text).toContain("Agents are not reachable right now.");
      // Not even in the details: tenants are not told where the gateway lives.
      const all = (await banner.textContent()) ?? "";
      const gatewayAddress = new URL(system.gatewayUrl);
      expect(all).not.toContain(gatewayAddress.host);
      expect(all).not.toContain(gatewayAddress.port);
      expect(all).not.toMatch(/CLAWDBOT|127\.0\.0\.1|localhost/);
      // The composer is off and says why; the sidebar does not load forever.
      const composer = page.getByTestId("composer");
      await expect.poll(() => composer.isDisabled(), { timeout: 15_000 }).toBe(true);
      expect(await composer.getAttribute("placeholder")).toMatch(/not reachable/);
      expect(await page.getByText("Loading chats…").count()).toBe(0);
      await shot(page, "gateway-down");
      await page.setViewportSize(PHONE);
      await expect.poll(() => fitsWidth(page)).toBe(true);
      await shot(page, "gateway-down-phone");
    } finally {
      process.kill(gateway, "SIGCONT");
    }
    // Nobody clicks anything: the banner checks back by itself and goes away, and the chat works again.
    await expect.poll(() => banner.count(), { timeout: 90_000, interval: 500 }).toBe(0);
    await expect.poll(() => page.getByTestId("composer").isDisabled(), { timeout: 30_000 }).toBe(false);
    await page.getByTestId("composer").fill("Still there?");
    await page.getByRole("button", { name: "Send", exact: true }).click();
    await expect.poll(() => page.locator("[data-testid=message-assistant][data-status=ok]").count(), { timeout: 30_000 }).toBe(2);
    await context.close();
  });
});
