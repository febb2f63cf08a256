/**
 * The installation's operator in the browser, on an invitation-only installation: the sign-in
 * screen offers no sign-up; the operator (its first account) sees every organisation with this
 * month's usage and suspends one, whose member then sees why and cannot chat, until the
 * suspension is lifted; sets an organisation's limits, which its members see on their usage page;
 * nobody else gets the operator's page. The table fits a phone.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestClient } from "./client";
import type { RunningSystem } from "./system";
import { DESKTOP, PASSWORD, PHONE, apiAs, chromiumPath, fitsWidth, invite, nav, signUpFromInvitation, startWebSystem, submitAuth } from "./web-support";

let system: RunningSystem;
let browser: Browser;
let stop: () => Promise<void>;
const contexts: BrowserContext[] = [];
let acme: { id: string; name: string };

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: DESKTOP });
  contexts.push(context);
  return context.newPage();
}

const row = (page: Page, name: string) => page.locator(`[data-testid=operator-row][data-tenant-name="${name}"]`);

async function chat(page: Page, text: string): Promise<void> {
  await page.getByTestId("composer").fill(text);
  await page.getByRole("button", { name: "Send", exact: true }).click();
  await page.locator("[data-testid=message-assistant][data-status=ok]").last().waitFor({ timeout: 20_000 });
}

describe.runIf(chromiumPath)("the operator in the web app (invitation-only sign-up)", () => {
  let operator: TestClient;

  beforeAll(async () => {
    ({ system, browser, stop } = await startWebSystem({ WORKFORCE_SIGNUP: "invite" }));
  }, 120_000);
  afterAll(async () => {
    for (const context of contexts) await context.close();
    await stop?.();
  });

  it("lets the installation's first account sign up from the sign-in screen, as its operator", async () => {
    const page = await newPage();
    await page.goto(system.platformUrl);
    // Invitation-only, but nobody has an account yet: the first to sign up runs the installation.
    await page.getByText("This installation has no account yet: the first to sign up becomes its operator.").waitFor();
    await page.getByLabel("Email").fill("op@example.com");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign up" }).click();
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Operator", exact: true }).waitFor({ timeout: 15_000 });

    operator = await apiAs(system, "op@example.com");
    const created = await operator.json<{ tenant: { id: string; name: string } }>("POST", "/api/tenants", { name: "Acme" });
    expect(created.status).toBe(201);
    acme = created.body.tenant;
    const agent = await operator.request("POST", "/api/agents", { name: "Ada", role: "Research Analyst" }, { "x-tenant-id": acme.id });
    expect(agent.status).toBe(201);
  });

  it("the sign-in screen offers no sign-up and says an invitation is needed", async () => {
    const page = await newPage();
    await page.goto(system.platformUrl);
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    expect(await page.getByRole("button", { name: "Sign up" }).count()).toBe(0);
    expect(await page.getByRole("main").textContent()).toContain("New accounts need an invitation: open the link in the invitation email you received.");
  });

  it("suspends an organisation: its member sees why and cannot chat; lifted, chatting works again. Non-operators get no operator page", async () => {
    // A member joins Acme from an invitation (the only way in here) and chats once.
    const member = await newPage();
    await signUpFromInvitation(member, await invite(operator, system, acme.id, "mia@example.com"));
    expect(await member.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Operator" }).count()).toBe(0);
    await member.getByTestId("agent-card").filter({ hasText: "Ada" }).getByRole("button", { name: "Chat" }).click();
    await chat(member, "Summarise the week");
    const chatUrl = member.url();

    // Not the member's page: a plain refusal, and the API refuses too.
    await member.goto(`${system.platformUrl}/operator`);
    await member.getByTestId("operator-refusal").waitFor({ timeout: 10_000 });
    expect(await member.getByTestId("operator-refusal").textContent()).toContain("Only the operator of this installation can open this page.");
    expect(await member.getByTestId("operator-row").count()).toBe(0);
    const asMember = await apiAs(system, "mia@example.com");
    expect((await asMember.json("GET", "/api/operator/tenants")).status).toBe(403);

    // The operator's table: every organisation, its people and this month's usage.
    const page = await newPage();
    await page.goto(system.platformUrl);
    await submitAuth(page, "op@example.com", "Sign in");
    await nav(page, "Operator");
    await row(page, "Acme").waitFor({ timeout: 10_000 });
    expect(await page.getByTestId("operator-row").count()).toBe(2);
    const cells = async () => row(page, "Acme").locator("th, td").allTextContents();
    await expect
      .poll(async () => {
        await page.getByRole("button", { name: "Refresh" }).click();
        return (await cells())[4];
      }, { timeout: 10_000 })
      .toBe("1");
    const [name, members, owners, tokens, , budget, limits, status] = await cells();
    expect([name, members, owners, budget, limits, status]).toEqual(["Acme", "2", "op@example.com", "Unlimited", "4 at once · 200 queued · 2,048 MB", "Active"]);
    expect(Number(tokens!.replace(/\D/g, ""))).toBeGreaterThan(0);

    // Suspend, with a reason.
    await row(page, "Acme").getByRole("button", { name: "Suspend Acme…" }).click();
    await page.getByLabel("Reason (shown to its members)").fill("Unpaid invoice");
    await page.getByRole("button", { name: "Confirm suspension" }).click();
    await row(page, "Acme").getByTestId("operator-status").filter({ hasText: "Suspended" }).waitFor({ timeout: 10_000 });
    expect(await row(page, "Acme").getByTestId("operator-status").textContent()).toContain("Unpaid invoice");
    expect(await row(page, "Acme").getAttribute("data-suspended")).toBe("true");

    // The member: a banner with the reason, the composer off, "(suspended)" by the name, no error boxes.
    await member.goto(chatUrl);
    const banner = member.getByTestId("suspension-banner");
    await banner.filter({ hasText: "Unpaid invoice" }).waitFor({ timeout: 15_000 });
    expect(await banner.textContent()).toContain("Acme is suspended.");
    expect(await member.getByTestId("composer").isDisabled()).toBe(true);
    expect(await member.getByRole("button", { name: "Send", exact: true }).isDisabled()).toBe(true);
    expect(await member.locator(".tenant-name").textContent()).toBe("Acme (suspended)");
    expect(await member.getByTestId("error").count()).toBe(0);
    // What still works: leaving (a member cannot export). The other screens say it is suspended instead of showing empty lists.
    expect(await banner.getByRole("button", { name: "Leave Acme" }).count()).toBe(1);
    expect(await banner.getByRole("button", { name: "Export data" }).count()).toBe(0);
    await member.goto(system.platformUrl);
    await member.getByTestId("suspended-screen").waitFor({ timeout: 10_000 });
    expect(await member.getByTestId("agent-card").count()).toBe(0);
    await banner.filter({ hasText: "Unpaid invoice" }).waitFor({ timeout: 10_000 });
    await member.goto(chatUrl);
    await banner.waitFor({ timeout: 10_000 });

    // Lifted: "Check again" brings the organisation back without a reload, and the chat works.
    await row(page, "Acme").getByRole("button", { name: "Lift the suspension of Acme" }).click();
    await row(page, "Acme").getByTestId("operator-status").filter({ hasText: "Active" }).waitFor({ timeout: 10_000 });
    await banner.getByRole("button", { name: "Check again" }).click();
    await expect.poll(() => banner.count(), { timeout: 10_000 }).toBe(0);
    await member.locator("[data-testid=message-assistant][data-status=ok]").first().waitFor({ timeout: 10_000 });
    await expect.poll(() => member.getByTestId("composer").isEnabled(), { timeout: 10_000 }).toBe(true);
    expect(await member.locator(".tenant-name").textContent()).toBe("Acme");
    await chat(member, "And the month?");
    expect(await member.getByTestId("message-assistant").count()).toBe(2);
  });

  it("while suspended an owner can still export the data and a member can leave; with invitation-only sign-up nobody is offered a new organisation", async () => {
    const member = await newPage();
    await signUpFromInvitation(member, await invite(operator, system, acme.id, "leo@example.com"));
    const suspended = await operator.request("PATCH", `/api/operator/tenants/${acme.id}`, { suspended: true, reason: "Security review" });
    expect(suspended.status).toBe(200);

    // The operator is also Acme's owner: the switcher marks it, and its banner offers the export.
    const owner = await newPage();
    await owner.goto(system.platformUrl);
    await submitAuth(owner, "op@example.com", "Sign in");
    await owner.getByRole("heading", { name: "Agents" }).waitFor({ timeout: 15_000 });
    await owner.getByLabel("Organisation").selectOption({ label: "Acme (owner) (suspended)" });
    const banner = owner.getByTestId("suspension-banner");
    await banner.filter({ hasText: "Security review" }).waitFor({ timeout: 10_000 });
    const [download] = await Promise.all([owner.waitForEvent("download"), banner.getByRole("button", { name: "Export data" }).click()]);
    expect(download.suggestedFilename()).toBe(`workforce-${acme.id}.json`);

    // The member leaves; with no organisation left and sign-up by invitation only, they are told to ask for one.
    await member.reload();
    const memberBanner = member.getByTestId("suspension-banner");
    await memberBanner.getByRole("button", { name: "Leave Acme" }).click();
    await memberBanner.getByRole("button", { name: "Confirm leave" }).click();
    await member.getByRole("heading", { name: "Welcome" }).waitFor({ timeout: 10_000 });
    expect(await member.getByRole("main").textContent()).toContain("Ask an owner of one for an invitation");
    expect(await member.getByRole("button", { name: "Create organisation" }).count()).toBe(0);

    expect((await operator.request("PATCH", `/api/operator/tenants/${acme.id}`, { suspended: false, suspendedReason: null })).status).toBe(200);
  });

  it("the operator sets an organisation's limits, with the defaults shown, and its members see them read-only on the usage page", async () => {
    const page = await newPage();
    await page.goto(system.platformUrl);
    await submitAuth(page, "op@example.com", "Sign in");
    await nav(page, "Operator");
    await row(page, "Acme").getByRole("button", { name: "Limits of Acme…" }).click();
    const form = page.getByTestId("limits-form");
    const runs = form.getByLabel("Runs at once", { exact: true });
    await runs.waitFor({ timeout: 10_000 });
    expect(await runs.getAttribute("placeholder")).toBe("default: 4");
    expect(await form.getByLabel("Tokens per month", { exact: true }).getAttribute("placeholder")).toBe("default: no cap");
    await runs.fill("2");
    await form.getByLabel("Tokens per month", { exact: true }).fill("50000");
    await form.getByRole("button", { name: "Save limits" }).click();
    await form.getByTestId("limits-push-status").filter({ hasText: "in force on the gateways" }).waitFor({ timeout: 10_000 });
    expect(await row(page, "Acme").getByTestId("operator-limits").textContent()).toContain("2 at once");
    // The gateway holds it: every entry point there applies it.
    const held = await fetch(`${system.gatewayUrl}/v1/tenant/policy`, { headers: { authorization: `Bearer ${system.hookToken}`, "x-tenant-id": acme.id } });
    expect(await held.json()).toMatchObject({ source: "pushed", limits: { maxConcurrentRuns: 2, monthlyTokens: 50_000 } });

    const member = await newPage();
    await member.goto(system.platformUrl);
    await submitAuth(member, "mia@example.com", "Sign in");
    await member.getByRole("heading", { name: "Agents" }).waitFor({ timeout: 15_000 });
    await nav(member, "Usage");
    await member.getByTestId("limit-concurrent-runs").filter({ hasText: "2" }).waitFor({ timeout: 10_000 });
    expect(await member.getByTestId("limit-monthly-tokens").textContent()).toBe("50,000 (plan)");
    expect(await member.getByTestId("limits-panel").getByRole("textbox").count()).toBe(0);

    // Back to the defaults.
    await form.getByRole("button", { name: "Reset Runs at once to the default" }).click();
    await form.getByRole("button", { name: "Reset Tokens per month to the default" }).click();
    await form.getByRole("button", { name: "Save limits" }).click();
    await expect.poll(() => row(page, "Acme").getByTestId("operator-limits").textContent(), { timeout: 10_000 }).toContain("4 at once");
  });

  it("the operator's table fits a phone: the page does not scroll sideways, the table scrolls in its own box", async () => {
    const page = await newPage();
    await page.setViewportSize(PHONE);
    await page.goto(system.platformUrl);
    await submitAuth(page, "op@example.com", "Sign in");
    await page.getByRole("heading", { name: "Agents" }).waitFor({ timeout: 15_000 });
    await page.goto(`${system.platformUrl}/operator`);
    await row(page, "Acme").waitFor({ timeout: 10_000 });
    expect(await fitsWidth(page)).toBe(true);
    const box = page.getByRole("region", { name: "Organisations" });
    expect(await box.evaluate((element) => element.scrollWidth > element.clientWidth)).toBe(true);
    await row(page, "Acme").getByRole("button", { name: "Suspend Acme…" }).click();
    await page.getByLabel("Reason (shown to its members)").waitFor();
    expect(await fitsWidth(page)).toBe(true);
    await page.getByRole("button", { name: "Cancel" }).click();
  });
});
