/**
 * The organisation's governance in the browser (issue 16), through the whole system (`npm start`)
 * and Debian chromium: the Settings area and its navigation; budget & plan with its progress bar,
 * set by an owner and read-only for a member; a used-up budget in the chat linking to that screen
 * without Retry; the audit log filtered and paged; the export downloaded with progress; erasure by
 * typed name with a receipt; and the Team page's "an owner", last-owner and re-invitation rules.
 */
import { readFile } from "node:fs/promises";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningSystem } from "./system";
import { apiAs, askNewAgent, chromiumPath, DESKTOP, fitsWidth, invite, nav, organisationsOf, PHONE, signedUpPage, signUpFromInvitation, startWebSystem } from "./web-support";

let system: RunningSystem;
let browser: Browser;
let stop: () => Promise<void>;

describe.runIf(chromiumPath)("governance screens in the web app", () => {
  beforeAll(async () => {
    ({ system, browser, stop } = await startWebSystem());
  }, 180_000);
  afterAll(async () => {
    await stop?.();
  });

  const budgetMeter = (page: Page) => page.getByTestId("budget-meter");

  async function setBudget(page: Page, tokens: string): Promise<void> {
    await page.getByLabel("Monthly token budget").fill(tokens);
    await page.getByRole("button", { name: "Save budget" }).click();
    await page.getByTestId("budget-saved").waitFor({ timeout: 15_000 });
  }

  it("groups the organisation's settings, sets the budget with a progress bar, and turns a used-up budget in the chat into a link to it", async () => {
    const { context, page } = await signedUpPage(browser, system, "bea@example.com");
    const main = page.getByRole("navigation", { name: "Main" });
    // The installation's first account is also its operator.
    expect(await main.getByRole("link").allTextContents()).toEqual(["Agents", "Search", "Approvals", "Usage", "Settings", "Operator"]);

    await nav(page, "Budget & plan");
    await page.getByRole("heading", { name: "Budget & plan", level: 1 }).waitFor();
    const settings = page.getByRole("navigation", { name: "Settings" });
    expect(await settings.getByRole("link").allTextContents()).toEqual(["Team", "Budget & plan", "Integrations", "Webhooks", "API keys", "Audit log", "Export & delete"]);
    expect(await settings.getByRole("link", { name: "Budget & plan" }).getAttribute("aria-current")).toBe("page");
    expect(await main.getByRole("link", { name: "Settings" }).getAttribute("aria-current")).toBe("page");
    // Loopback installations start without a limit.
    await budgetMeter(page).filter({ hasText: "No monthly limit applies" }).waitFor({ timeout: 15_000 });
    expect(await budgetMeter(page).textContent()).toMatch(/Resets on (1 \w+|\w+ 1)\./);

    await setBudget(page, "1,000,000");
    await budgetMeter(page).filter({ hasText: "of 1,000,000 tokens used this month" }).waitFor({ timeout: 15_000 });
    expect(await page.getByRole("progressbar").count()).toBe(1);
    expect(await page.getByTestId("budget-current").textContent()).toContain("1,000,000");
    // Not a number: said beside the field, nothing sent.
    await page.getByLabel("Monthly token budget").fill("lots");
    await page.getByRole("button", { name: "Save budget" }).click();
    await page.getByText("Enter a whole number of tokens").waitFor();

    // A reply uses tokens; a budget of one token is then used up.
    await nav(page, "Agents");
    await askNewAgent(page);
    await page.locator("[data-testid=message-assistant][data-status=ok]").waitFor({ timeout: 30_000 });
    const chatUrl = page.url();
    await nav(page, "Budget & plan");
    await setBudget(page, "1");
    await page.locator("[data-testid=budget-meter][data-state=exceeded]").waitFor({ timeout: 15_000 });
    expect(await page.getByTestId("budget-exceeded").textContent()).toContain("New messages and scheduled runs are refused until it resets on");

    await page.goto(chatUrl);
    await page.getByTestId("composer").fill("One more question");
    await page.getByRole("button", { name: "Send", exact: true }).click();
    const notice = page.getByTestId("budget-exceeded-notice");
    await notice.waitFor({ timeout: 15_000 });
    expect(await page.getByRole("button", { name: "Retry" }).count()).toBe(0);
    expect(await notice.innerText()).not.toContain("budget_exceeded");
    await notice.getByRole("link", { name: "See the budget" }).click();
    await page.getByRole("heading", { name: "Budget & plan", level: 1 }).waitFor();

    // Raised again, the month is back within it.
    await setBudget(page, "1000000");
    await page.locator("[data-testid=budget-meter][data-state=ok]").waitFor({ timeout: 15_000 });

    // At 390 px the budget screen, its form and the settings navigation fit the width.
    await page.setViewportSize(PHONE);
    await budgetMeter(page).waitFor();
    expect(await fitsWidth(page)).toBe(true);
    await page.setViewportSize(DESKTOP);
    await context.close();
  });

  it("tells the owner they are 'an owner', keeps the last owner from leaving, asks before a re-invitation changes a role, and shows a member the budget read-only", async () => {
    const { context, page } = await signedUpPage(browser, system, "otto@example.com");
    await nav(page, "Team");
    await page.getByText("You are an owner.").waitFor({ timeout: 15_000 });
    const own = page.locator("[data-testid=member-row][data-email='otto@example.com']");
    await own.getByTestId("last-owner-note").waitFor();
    expect(await own.getByRole("button", { name: "Leave" }).isDisabled()).toBe(true);
    expect(await own.getByRole("combobox").isDisabled()).toBe(true);
    expect(await own.getByTestId("last-owner-note").textContent()).toContain("make someone else an owner first");

    // Re-inviting a pending address for another role asks first; Cancel keeps the role.
    const inviteAs = async (email: string, role: string) => {
      await page.getByLabel("Email address").fill(email);
      await page.getByLabel("Invite as").selectOption(role);
      await page.getByRole("button", { name: "Invite", exact: true }).click();
    };
    const pendingRow = page.locator("[data-testid=invitation-row][data-email='pia@example.com']");
    await inviteAs("pia@example.com", "member");
    await page.getByTestId("invitation-sent").waitFor();
    await page.getByRole("button", { name: "Done" }).click();
    await inviteAs("pia@example.com", "admin");
    const ask = page.getByRole("group", { name: "Replace the invitation for pia@example.com?" });
    await ask.waitFor();
    expect(await ask.textContent()).toContain("already has a pending invitation as a member");
    await ask.getByRole("button", { name: "Cancel" }).click();
    expect(await pendingRow.locator(".badge").textContent()).toBe("member");
    await inviteAs("pia@example.com", "admin");
    await ask.getByRole("button", { name: "Replace invitation" }).click();
    await page.getByTestId("invitation-sent").waitFor();
    await pendingRow.locator(".badge").filter({ hasText: "admin" }).waitFor();
    expect(await page.getByTestId("error").count()).toBe(0);

    // A member sees the budget, cannot change it, and is offered no audit log or export.
    const owner = await apiAs(system, "otto@example.com");
    const [tenant] = await organisationsOf(owner);
    const link = await invite(owner, system, tenant!.id, "max@example.com");
    const memberContext = await browser.newContext({ viewport: DESKTOP });
    const member = await memberContext.newPage();
    await signUpFromInvitation(member, link);
    await nav(member, "Budget & plan");
    await member.getByTestId("budget-read-only").waitFor({ timeout: 15_000 });
    await budgetMeter(member).waitFor();
    expect(await member.getByLabel("Monthly token budget").count()).toBe(0);
    expect(await member.getByRole("navigation", { name: "Settings" }).getByRole("link").allTextContents()).toEqual(["Team", "Budget & plan", "Integrations", "Webhooks", "API keys"]);
    await nav(member, "Team");
    await member.getByText("You are a member.").waitFor();

    // With a second owner, the first may change role or leave again.
    await page.reload();
    const maxRow = page.locator("[data-testid=member-row][data-email='max@example.com']");
    await maxRow.getByRole("combobox").selectOption("owner");
    await maxRow.getByRole("button", { name: "Change role" }).click();
    await expect.poll(() => own.getByRole("button", { name: "Leave" }).isDisabled(), { timeout: 15_000 }).toBe(false);
    expect(await own.getByTestId("last-owner-note").count()).toBe(0);
    await memberContext.close();
    await context.close();
  });

  it("filters the audit log by action, person and day, and pages through older entries", async () => {
    const { context, page } = await signedUpPage(browser, system, "ada-audit@example.com");
    const client = await apiAs(system, "ada-audit@example.com");
    const [tenant] = await organisationsOf(client);
    // Enough entries for more than one page of 50.
    for (let index = 1; index <= 55; index += 1) {
      const response = await client.request("PUT", "/api/budget", { monthlyTokens: 1000 * index }, { "x-tenant-id": tenant!.id });
      expect(response.status).toBe(200);
    }
    await client.request("POST", "/api/keys", { name: "ci" }, { "x-tenant-id": tenant!.id });

    await nav(page, "Audit log");
    await page.getByRole("heading", { name: "Audit log", level: 1 }).waitFor();
    const rows = page.getByTestId("audit-entry");
    await rows.first().waitFor({ timeout: 15_000 });
    expect(await rows.count()).toBe(50);
    expect(await rows.first().getAttribute("data-action")).toBe("api_key.create");
    expect(await rows.first().textContent()).toContain("ada-audit@example.com");
    const all = (await client.json<{ entries: unknown[] }>("GET", "/api/audit?limit=500")).body.entries.length;
    expect(all).toBeGreaterThan(55);
    await page.getByRole("button", { name: "Show older entries" }).click();
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(all);
    expect(await page.getByRole("button", { name: "Show older entries" }).count()).toBe(0);
    expect(await page.getByTestId("audit-count").textContent()).toBe(`${all} entries`);

    await page.getByLabel("Action", { exact: true }).selectOption("api_key.create");
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(1);
    expect(await rows.first().textContent()).toContain("API key created");
    await page.getByLabel("Action", { exact: true }).selectOption("tenant.");
    await expect.poll(async () => (await rows.count()) === 1 && (await rows.first().getAttribute("data-action")), { timeout: 15_000 }).toBe("tenant.create");

    await page.getByLabel("Action", { exact: true }).selectOption("");
    await page.getByLabel("Who", { exact: true }).selectOption({ label: "ada-audit@example.com" });
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(50);

    const tomorrow = new Date(Date.now() + 86_400_000);
    const day = `${tomorrow.getFullYear()}-${String(tomorrow.getMonth() + 1).padStart(2, "0")}-${String(tomorrow.getDate()).padStart(2, "0")}`;
    await page.getByLabel("From", { exact: true }).fill(day);
    await page.getByTestId("audit-empty").filter({ hasText: "No entries match these filters." }).waitFor({ timeout: 15_000 });
    await page.getByRole("button", { name: "Clear filters" }).click();
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(50);

    await page.setViewportSize(PHONE);
    await rows.first().waitFor();
    expect(await fitsWidth(page)).toBe(true);
    await context.close();
  });

  it("downloads the export with progress, and deletes the organisation only by its typed name, ending on a receipt", async () => {
    const { context, page } = await signedUpPage(browser, system, "erin@example.com");
    await askNewAgent(page);
    await page.locator("[data-testid=message-assistant][data-status=ok]").waitFor({ timeout: 30_000 });

    await nav(page, "Export & delete");
    await page.getByRole("heading", { name: "Export & delete", level: 1 }).waitFor();
    // The export is held until the screen has shown that it is under way.
    let release: () => void = () => undefined;
    const shown = new Promise<void>((resolve) => (release = resolve));
    await page.route("**/api/tenant/export", async (route) => {
      await shown;
      await route.continue();
    });
    const downloading = page.waitForEvent("download", { timeout: 30_000 });
    await page.getByRole("button", { name: "Download export" }).click();
    await page.getByTestId("export-progress").filter({ hasText: "Preparing the export" }).waitFor();
    expect(await page.getByRole("progressbar", { name: "Export progress" }).count()).toBe(1);
    release();
    const file = await downloading;
    expect(file.suggestedFilename()).toMatch(/^workforce-[0-9a-f-]{36}\.json$/);
    const exported = JSON.parse(await readFile(await file.path(), "utf8")) as { format: string; agents: { agent: { slug: string } }[] };
    expect(exported.format).toBe("workforce-tenant-export");
    expect(exported.agents.map((entry) => entry.agent.slug)).toEqual(["ada"]);
    await page.getByTestId("export-done").waitFor();
    expect(await page.getByTestId("export-progress").count()).toBe(0);

    // Deleting needs the exact name.
    const name = (await page.locator(".confirm-name").textContent())!;
    const confirm = page.getByLabel(/^Type .* to confirm$/);
    const erase = page.getByRole("button", { name: "Delete this organisation" });
    await confirm.fill(name.toUpperCase());
    expect(await erase.isDisabled()).toBe(true);
    await confirm.fill(name);
    expect(await erase.isDisabled()).toBe(false);
    await erase.click();

    const receipt = page.getByTestId("erasure-receipt");
    await receipt.waitFor({ timeout: 30_000 });
    await page.getByRole("heading", { name: "Organisation deleted" }).waitFor();
    const text = (await receipt.textContent())!;
    expect(text).toContain(`${name} and all its data were deleted on`);
    expect(text).toContain("1 agent, with all their chats");
    expect(text).toContain("1 membership");
    // The receipt stays through a reload, while the organisation is gone for good.
    await page.reload();
    await receipt.waitFor({ timeout: 15_000 });
    expect(await organisationsOf(await apiAs(system, "erin@example.com"))).toEqual([]);
    await page.getByRole("link", { name: "Continue" }).click();
    await page.getByText("Your account has no organisation yet").waitFor({ timeout: 15_000 });
    await context.close();
  });
});
