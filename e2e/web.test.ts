/**
 * The web app in a real browser (Debian chromium via playwright-core) against the real platform
 * and gateway: sign up, create an agent, chat, and see the reply stream in; team invitations,
 * API keys, usage, and the errors a user meets. Screenshots of the main screens land in
 * e2e/artifacts/ and are copied to docs/screenshots/ for the README.
 */
import { copyFile, mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findChromium, launchChromium } from "./browser";
import { repoRoot, startSystem, type RunningSystem } from "./system";
import { SUBJECTS, gatewayPid, linkIn, signUpFromInvitation, waitForMail } from "./web-support";

const chromiumPath = findChromium();
const screenshots = path.join(repoRoot, "e2e", "artifacts");
const docsScreenshots = path.join(repoRoot, "docs", "screenshots");
const PASSWORD = "a long enough password";
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
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
    // Chromium starts while the system does; slow enough a model that a reply visibly streams.
    const launching = launchChromium(chromiumPath!);
    system = await startSystem({ env: { OFFLINE_MODEL_DELAY_MS: "30" } }).catch(async (error: unknown) => {
      await (await launching).close();
      throw error;
    });
    browser = await launching;
  }, 120_000);

  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(screenshots, `${name}.png`) });

  afterAll(async () => {
    await browser?.close();
    await system?.stop();
    // The README shows the screens of the latest run.
    await mkdir(docsScreenshots, { recursive: true });
    for (const name of ["sign-up", "agents", "chat", "chat-after-reload", "chat-phone", "team", "keys", "usage", "gateway-down"]) {
      await copyFile(path.join(screenshots, `${name}.png`), path.join(docsScreenshots, `${name}.png`)).catch(() => undefined);
    }
  });

  async function signUp(page: Page, email: string): Promise<void> {
    await page.goto(system.platformUrl);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await shot(page, "sign-up");
    await page.getByRole("button", { name: "Sign up" }).click();
  }

  const nav = (page: Page, name: "Agents" | "Team" | "API keys" | "Usage") =>
    page.getByRole("navigation", { name: "Main" }).getByRole("link", { name, exact: true }).click();

  async function chat(page: Page, text: string): Promise<void> {
    await page.getByTestId("composer").fill(text);
    await page.getByRole("button", { name: "Send", exact: true }).click();
    await page.locator("[data-testid=message-assistant][data-status=ok]").last().waitFor({ timeout: 20_000 });
  }

  /** The page has no horizontal scrollbar: nothing is wider than the screen. */
  const fitsWidth = (page: Page) => page.evaluate<boolean>("document.documentElement.scrollWidth <= window.innerWidth");

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
    await page.getByRole("button", { name: "Send", exact: true }).click();
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
    await page.getByRole("button", { name: "Send", exact: true }).click();
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
    await strangerPage.getByTestId("not-found").filter({ hasText: "There is no agent called “ada”" }).waitFor({ timeout: 10_000 });
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

  it("team: an invited user signs up through the link, joins the organisation and sees its agent", async () => {
    const ownerContext = await browser.newContext({ viewport: DESKTOP });
    const owner = await ownerContext.newPage();
    await signUp(owner, "owner@example.com");
    await createAda(owner);
    // Confirmed by the link in the mail, the owner's screens lose the "Confirm your email address" banner.
    await owner.getByTestId("unconfirmed-banner").waitFor();
    await owner.goto(linkIn(await waitForMail(system, { to: "owner@example.com", subject: SUBJECTS.confirmSignup })));
    await owner.getByTestId("notice").filter({ hasText: "Your address is confirmed." }).waitFor({ timeout: 10_000 });
    expect(await owner.getByTestId("unconfirmed-banner").count()).toBe(0);
    await owner.getByRole("button", { name: "Dismiss notice" }).click();
    await nav(owner, "Agents");
    await owner.getByTestId("agent-card").filter({ hasText: "Ada" }).waitFor();
    await shot(owner, "agents");

    await nav(owner, "Team");
    await owner.getByTestId("member-row").filter({ hasText: "owner@example.com" }).waitFor();
    await owner.getByLabel("Organisation name", { exact: true }).fill("Acme Research");
    await owner.getByRole("button", { name: "Rename" }).click();
    await expect.poll(() => owner.getByRole("banner").textContent()).toContain("Acme Research");

    await owner.getByLabel("Email address").fill("teammate@example.com");
    await owner.getByLabel("Invite as").selectOption("member");
    await owner.getByRole("button", { name: "Invite", exact: true }).click();
    // No SMTP here: the mail is in the outbox, and the page says where that is.
    const sent = owner.getByTestId("invitation-sent");
    await sent.filter({ hasText: "Invitation sent to teammate@example.com" }).waitFor();
    expect(await sent.textContent()).toContain("Mail is not configured on this server: the message is in the outbox");
    expect(await owner.getByLabel("Invitation link").count()).toBe(0);
    await owner.getByTestId("invitation-row").filter({ hasText: "teammate@example.com" }).waitFor();
    await shot(owner, "team");
    const acceptUrl = linkIn(await waitForMail(system, { to: "teammate@example.com", subject: SUBJECTS.invitation }));
    expect(acceptUrl).toMatch(/\/invite\/[\w-]+$/);

    // The teammate opens the link signed out, sees who invited them where, signs up with the invited address, and is in.
    const teammateContext = await browser.newContext({ viewport: DESKTOP });
    const teammate = await teammateContext.newPage();
    await teammate.goto(acceptUrl);
    await teammate.getByTestId("invitation-summary").waitFor();
    expect(await teammate.getByTestId("invitation-summary").textContent()).toBe("owner@example.com invited you to join Acme Research as a member.");
    await shot(teammate, "invitation");
    await signUpFromInvitation(teammate, acceptUrl);
    expect(await teammate.getByTestId("notice").textContent()).toContain("You joined Acme Research as a member.");
    // Only that organisation: none of their own beside it.
    expect(await teammate.getByLabel("Organisation").count()).toBe(0);
    expect(await teammate.locator(".tenant-name").textContent()).toBe("Acme Research");
    await teammate.getByTestId("agent-card").filter({ hasText: "Ada" }).waitFor({ timeout: 10_000 });

    // A member sees the team read-only; the owner sees the new member and no pending invitation.
    await nav(teammate, "Team");
    await teammate.getByTestId("member-row").filter({ hasText: "owner@example.com" }).waitFor();
    expect(await teammate.getByRole("button", { name: "Invite", exact: true }).count()).toBe(0);
    expect(await teammate.getByLabel("Role of owner@example.com").count()).toBe(0);
    await owner.reload();
    await owner.getByTestId("member-row").filter({ hasText: "teammate@example.com" }).waitFor();
    expect(await owner.getByTestId("invitation-row").count()).toBe(0);
    await teammateContext.close();
    await ownerContext.close();
  });

  it("API keys: the secret is shown once, works against /api/agents, and gets 401 once revoked", async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    await signUp(page, "keys@example.com");
    await page.getByLabel("Name").waitFor();
    await nav(page, "API keys");
    await page.getByLabel("Key name").fill("CI bot");
    await page.getByRole("button", { name: "Create key" }).click();
    const secret = await page.getByLabel("Secret of CI bot").inputValue();
    expect(secret).toMatch(/^wf_/);
    expect(await page.getByTestId("key-secret").textContent()).toMatch(/won't see it again/);
    await shot(page, "keys");

    const listAgents = (key: string) => fetch(`${system.platformUrl}/api/agents`, { headers: { Authorization: `Bearer ${key}` } });
    const allowed = await listAgents(secret);
    expect(allowed.status).toBe(200);
    expect(await allowed.json()).toEqual({ agents: [] });

    // Shown once: after a reload only the prefix is left, and the use shows as "last used".
    await page.reload();
    const row = page.getByTestId("key-row").filter({ hasText: "CI bot" });
    await row.waitFor();
    expect(await page.getByTestId("key-secret").count()).toBe(0);
    expect(await page.content()).not.toContain(secret);
    expect(await row.textContent()).toContain("Last used now");

    await page.getByRole("button", { name: "Revoke CI bot" }).click();
    await page.getByRole("button", { name: "Confirm revoke" }).click();
    await page.getByText("No active keys.").waitFor();
    const refused = await listAgents(secret);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("invalid_token");
    await context.close();
  });

  it("usage: the screen shows the tokens of a chat that just happened; chat and usage fit a phone", async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    await signUp(page, "usage@example.com");
    await createAda(page);
    await chat(page, "Summarise the quarterly numbers");
    const chatUrl = page.url();

    // The session exports through the platform's endpoint, named after the agent.
    await page.getByRole("button", { name: /^Actions for / }).first().click();
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export Markdown" }).click()]);
    expect(download.suggestedFilename()).toMatch(/^ada-.+\.md$/);
    const markdown = await readFile(await download.path(), "utf8");
    expect(markdown).toContain("Summarise the quarterly numbers");
    expect(markdown).toContain("Ada");

    // What the platform counted, asked with the same user's token.
    const signIn = await fetch(`${system.platformUrl}/auth/v1/token?grant_type=password`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email: "usage@example.com", password: PASSWORD }),
    });
    const { access_token: token } = (await signIn.json()) as { access_token: string };
    let expected = 0;
    await expect
      .poll(async () => {
        const answer = await fetch(`${system.platformUrl}/api/usage?days=14`, { headers: { Authorization: `Bearer ${token}` } });
        const usage = (await answer.json()) as { totals: { runs: number; inputTokens: number; outputTokens: number } };
        expected = usage.totals.inputTokens + usage.totals.outputTokens;
        return usage.totals.runs;
      })
      .toBe(1);
    expect(expected).toBeGreaterThan(0);

    await nav(page, "Usage");
    const digits = async (testId: string) => ((await page.getByTestId(testId).textContent()) ?? "").replace(/\D/g, "");
    await expect.poll(() => digits("usage-total-tokens"), { timeout: 10_000 }).toBe(String(expected));
    expect(await digits("usage-total-runs")).toBe("1");
    const adaRow = page.locator("[data-testid=usage-agent-row][data-agent=ada]");
    expect((await adaRow.textContent())?.replace(/\D/g, "")).toContain(String(expected));
    expect(await page.getByRole("img", { name: "Tokens per day, by agent" }).count()).toBe(1);
    expect(await page.getByTestId("usage-chart").locator("rect.series").count()).toBe(1);
    // The organisation's files on the gateway against the default quota (WORKFORCE_TENANT_DISK_MB=2048).
    expect(await page.getByTestId("usage-disk").textContent()).toMatch(/^[\d.,]+ KB used of 2 GB$/);
    expect(await page.getByRole("meter", { name: "Disk used" }).count()).toBe(1);
    await shot(page, "usage");

    await page.setViewportSize(PHONE);
    await expect.poll(() => fitsWidth(page)).toBe(true);
    await page.goto(chatUrl);
    await page.locator("[data-testid=message-assistant][data-status=ok]").waitFor();
    expect(await fitsWidth(page)).toBe(true);
    await shot(page, "chat-phone");
    await context.close();
  });

  it("shows a clear message, with its code, when the gateway is down", async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    await signUp(page, "gateway-down@example.com");
    await page.getByLabel("Name").waitFor();

    // The launcher stops everything when a child exits, so the gateway is paused, not killed.
    const gateway = gatewayPid(system);
    process.kill(gateway, "SIGSTOP");
    try {
      await page.reload();
      const error = page.getByTestId("error").filter({ hasText: "gateway_unavailable" });
      await error.waitFor({ timeout: 10_000 });
      expect(await error.textContent()).toMatch(/gateway.* is not reachable/i);
      // The platform's own screens keep working.
      await nav(page, "Team");
      await page.getByTestId("member-row").filter({ hasText: "gateway-down@example.com" }).waitFor();
      await shot(page, "gateway-down");
    } finally {
      process.kill(gateway, "SIGCONT");
    }
    await page.getByRole("button", { name: "Check now" }).click();
    await expect.poll(() => page.getByTestId("error").filter({ hasText: "gateway_unavailable" }).count(), { timeout: 10_000 }).toBe(0);
    await context.close();
  });
});
