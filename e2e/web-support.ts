/**
 * Shared steps for the browser tests (Debian chromium via playwright-core) against the real system:
 * start it with a browser, sign up and in through the web app, and call the API as a user would.
 */
import { execFileSync } from "node:child_process";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { expect } from "vitest";
import { listOutbox, type OutboxEntry } from "../platform/src/mail/outbox-store";
import { findChromium, launchChromium } from "./browser";
import { TestClient } from "./client";
import { startSystem, type RunningSystem } from "./system";

export const PASSWORD = "a long enough password";
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };
export const WELCOME = "Your account has no organisation yet";

export const chromiumPath = findChromium();
if (!chromiumPath && process.env.CI) {
  throw new Error("CI=true but no Chromium found: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH");
}

/** The system and a browser, started side by side; `stop` ends both. */
export async function startWebSystem(env: NodeJS.ProcessEnv = {}): Promise<{ system: RunningSystem; browser: Browser; stop: () => Promise<void> }> {
  const launching = launchChromium(chromiumPath!);
  const system = await startSystem({ env }).catch(async (error: unknown) => {
    await (await launching).close();
    throw error;
  });
  const browser = await launching;
  return {
    system,
    browser,
    stop: async () => {
      await browser.close();
      await system.stop();
    },
  };
}

/** Fills the auth screen (already open) and presses Sign up or Sign in. */
export async function submitAuth(page: Page, email: string, button: "Sign up" | "Sign in"): Promise<void> {
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: button }).click();
}

/** A new browser context signed up as `email` on the agents screen of their own organisation. */
export async function signedUpPage(browser: Browser, system: RunningSystem, email: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: DESKTOP });
  const page = await context.newPage();
  await page.goto(system.platformUrl);
  await submitAuth(page, email, "Sign up");
  await page.getByRole("heading", { name: "Agents" }).waitFor({ timeout: 15_000 });
  return { context, page };
}

/** Creates Ada, a research analyst, on the agents screen, opens her chat and sends "Who are you?". */
export async function askNewAgent(page: Page): Promise<void> {
  await page.getByLabel("Name").fill("Ada");
  await page.getByLabel("Role", { exact: true }).fill("Research Analyst");
  await page.getByRole("button", { name: "Create agent" }).click();
  await page.getByTestId("agent-card").filter({ hasText: "Ada" }).getByRole("button", { name: "Chat" }).click();
  await page.getByTestId("composer").fill("Who are you?");
  await page.getByRole("button", { name: "Send", exact: true }).click();
}

/** Screens of the main bar, and those of the organisation's settings (reached through its "Settings" entry). */
type MainScreen = "Agents" | "Search" | "Approvals" | "Usage" | "Operator";
type SettingsScreen = "Team" | "Budget & plan" | "Integrations" | "Webhooks" | "API keys" | "Audit log" | "Export & delete";
const SETTINGS_SCREENS: readonly string[] = ["Team", "Budget & plan", "Integrations", "Webhooks", "API keys", "Audit log", "Export & delete"];

/** Opens a screen the way a person does: from the main bar, or Settings and then the settings' own navigation. */
export async function nav(page: Page, name: MainScreen | SettingsScreen): Promise<void> {
  if (!SETTINGS_SCREENS.includes(name)) {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name, exact: true }).click();
    return;
  }
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings", exact: true }).click();
  await page.getByRole("navigation", { name: "Settings" }).getByRole("link", { name, exact: true }).click();
}

/** The top bar's organisation: the switcher's selected option, or the name shown when there is one. */
export async function selectedOrganisation(page: Page): Promise<string> {
  // One of the two is there once the workspace has loaded.
  await page.locator(".tenant-name, .tenant-switcher select").first().waitFor({ timeout: 15_000 });
  const switcher = page.getByLabel("Organisation");
  if ((await switcher.count()) > 0) return (await switcher.locator("option:checked").textContent()) ?? "";
  return (await page.locator(".tenant-name").textContent()) ?? "";
}

/** Waits for the welcome screen a user without any organisation sees. */
export async function expectWelcome(page: Page): Promise<void> {
  await page.getByText(WELCOME).waitFor({ timeout: 15_000 });
  expect(await page.getByRole("heading", { name: "Welcome" }).isVisible()).toBe(true);
  expect(await page.getByTestId("error").count()).toBe(0);
  // Nothing about an organisation is offered but creating one.
  expect(await page.getByRole("navigation", { name: "Main" }).count()).toBe(0);
}

/** An API client signed in (or up) as `email`, the way any integrator would call the platform. */
export async function apiAs(system: RunningSystem, email: string, options: { signUp?: boolean } = {}): Promise<TestClient> {
  const client = new TestClient(system.platformUrl);
  if (options.signUp) {
    await client.signUp(email, PASSWORD);
    return client;
  }
  const { status, body } = await client.json<{ access_token: string }>("POST", "/auth/v1/token?grant_type=password", { email, password: PASSWORD });
  if (status !== 200) throw new Error(`sign-in failed: ${status} ${JSON.stringify(body)}`);
  client.accessToken = body.access_token;
  return client;
}

/** The user's organisations, oldest membership first. */
export async function organisationsOf(client: TestClient): Promise<{ id: string; name: string; role: string }[]> {
  const { status, body } = await client.json<{ tenants: { id: string; name: string; role: string }[] }>("GET", "/api/tenants");
  if (status !== 200) throw new Error(`listing organisations failed: ${status}`);
  return body.tenants;
}

/** Invites `email` into `tenantId` as a member and returns the link the invitee opens (from the mail in the outbox). */
export async function invite(owner: TestClient, system: RunningSystem, tenantId: string, email: string): Promise<string> {
  const before = await mailIds(system);
  const response = await owner.request("POST", "/api/invitations", { email, role: "member" }, { "x-tenant-id": tenantId });
  const body = (await response.json()) as { delivery: string };
  if (response.status !== 201) throw new Error(`invitation failed: ${response.status} ${JSON.stringify(body)}`);
  return linkIn(await waitForMail(system, { to: email, subject: /invited you to join/, notIn: before }));
}

/** The subjects of the account mails (platform/src/mail/render-mail.ts). */
export const SUBJECTS = {
  confirmSignup: /^Confirm your email address/,
  recovery: /^Reset your .* password/,
  emailChange: /^Confirm your new email address/,
  invitation: /invited you to join/,
  reauthentication: /confirmation code$/,
  passwordChanged: /password was changed$/,
} as const;

/** The ids of every mail in the outbox now; pass as `notIn` to wait for a newer one. */
export async function mailIds(system: RunningSystem): Promise<Set<string>> {
  return new Set((await listOutbox(system.outboxDir, 10_000)).entries.map((entry) => entry.id));
}

/** Every mail to `to` whose subject matches, newest first. */
export async function mailsTo(system: RunningSystem, to: string, subject: RegExp): Promise<OutboxEntry[]> {
  const { entries } = await listOutbox(system.outboxDir, 10_000);
  return entries.filter((entry) => entry.to === to && subject.test(entry.subject));
}

/** Waits for the newest mail to `to` whose subject matches (and, with `notIn`, that was not there before). */
export async function waitForMail(system: RunningSystem, query: { to: string; subject: RegExp; notIn?: Set<string> }): Promise<OutboxEntry> {
  let found: OutboxEntry | undefined;
  await expect
    .poll(
      async () => {
        found = (await mailsTo(system, query.to, query.subject)).find((entry) => !query.notIn?.has(entry.id));
        return found !== undefined;
      },
      { timeout: 10_000, message: `a mail to ${query.to} matching ${String(query.subject)}` },
    )
    .toBe(true);
  return found!;
}

/** The link a mail asks its reader to open. */
export function linkIn(mail: OutboxEntry): string {
  const match = /https?:\/\/\S+/.exec(mail.text);
  if (!match) throw new Error(`no link in the mail "${mail.subject}":\n${mail.text}`);
  return match[0];
}

/** The 6-digit code printed in a mail. */
export function codeIn(mail: OutboxEntry): string {
  const match = /code: (\d{6})/.exec(mail.text);
  if (!match) throw new Error(`no code in the mail "${mail.subject}":\n${mail.text}`);
  return match[1]!;
}

/** Confirms `email` with the link of its newest confirmation mail, the way the web app's /auth/confirm does (`verifyOtp`). */
export async function confirmAddress(system: RunningSystem, email: string): Promise<void> {
  const link = new URL(linkIn(await waitForMail(system, { to: email, subject: SUBJECTS.confirmSignup })));
  const response = await fetch(`${system.platformUrl}/auth/v1/verify`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ type: link.searchParams.get("type"), token_hash: link.searchParams.get("token_hash") }),
  });
  if (response.status !== 200) throw new Error(`confirming ${email} failed: ${response.status} ${await response.text()}`);
}

/** The page has no horizontal scrollbar: nothing is wider than the screen. */
export const fitsWidth = (page: Page) => page.evaluate<boolean>("document.documentElement.scrollWidth <= window.innerWidth");

/** Deletes an organisation the client owns (the erasure route wants its name as confirmation). */
export async function deleteOrganisation(owner: TestClient, tenant: { id: string; name: string }): Promise<void> {
  const response = await owner.request("DELETE", "/api/tenant", { confirm: tenant.name }, { "x-tenant-id": tenant.id });
  if (response.status !== 200) throw new Error(`erasure failed: ${response.status} ${await response.text()}`);
}

/** Opens an invitation link signed out and signs up from it with the invited address; lands on that organisation's agents. */
export async function signUpFromInvitation(page: Page, link: string): Promise<void> {
  await page.goto(link);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: /^Sign up and join / }).click();
  await page.getByTestId("notice").filter({ hasText: "You joined" }).waitFor({ timeout: 15_000 });
  await page.getByRole("heading", { name: "Agents" }).waitFor();
}

/** Opens an invitation link signed in as the invited (confirmed) address and joins. */
export async function joinFromInvitation(page: Page, link: string): Promise<void> {
  await page.goto(link);
  await page.getByRole("button", { name: /^Join / }).click();
  await page.getByTestId("notice").filter({ hasText: "You joined" }).waitFor({ timeout: 15_000 });
  await page.getByRole("heading", { name: "Agents" }).waitFor();
}

/** The gateway process started by the launcher (scripts/start.ts) of `system`. */
export function gatewayPid(running: RunningSystem): number {
  // The launcher runs the bundle (gateway/dist/cli.js); the source path is matched too.
  const output = execFileSync("pgrep", ["-P", String(running.process.pid), "-f", "gateway/(dist/cli\\.js|src/cli\\.ts)"], { encoding: "utf8" });
  const pid = Number(output.trim().split("\n")[0]);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no gateway process under the launcher (pid ${running.process.pid})`);
  return pid;
}
