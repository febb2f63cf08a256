/**
 * Roles in the browser (decision 010): a member gets read-only agent cards and only their own
 * chats, even by URL; an admin sees everyone's chats behind "All chats" and opens a colleague's
 * read-only, without the composer. Real platform and gateway, Debian chromium.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findChromium, launchChromium } from "./browser";
import { startSystem, type RunningSystem } from "./system";
import { SUBJECTS, linkIn, signUpFromInvitation, waitForMail } from "./web-support";

const chromiumPath = findChromium();
const PASSWORD = "a long enough password";
const DESKTOP = { width: 1280, height: 800 };
if (!chromiumPath && process.env.CI) throw new Error("CI=true but no Chromium found: apt-get install -y chromium, or set CHROMIUM_PATH");

let system: RunningSystem;
let browser: Browser;
const contexts: BrowserContext[] = [];

describe.runIf(chromiumPath)("roles in the web app", () => {
  beforeAll(async () => {
    const launching = launchChromium(chromiumPath!);
    system = await startSystem().catch(async (error: unknown) => {
      await (await launching).close();
      throw error;
    });
    browser = await launching;
  }, 120_000);

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await system?.stop();
  });

  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: DESKTOP });
    contexts.push(context);
    return context.newPage();
  }

  async function signUp(page: Page, email: string): Promise<void> {
    await page.goto(system.platformUrl);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign up" }).click();
  }

  async function chat(page: Page, text: string): Promise<string> {
    await page.getByTestId("composer").fill(text);
    await page.getByRole("button", { name: "Send", exact: true }).click();
    await page.locator("[data-testid=message-assistant][data-status=ok]").last().waitFor({ timeout: 20_000 });
    await expect.poll(() => new URL(page.url()).searchParams.get("session")).toBeTruthy();
    return new URL(page.url()).searchParams.get("session")!;
  }

  /** Invites from the owner's page (Team screen); the link is in the mail to the invited address. */
  async function invite(owner: Page, email: string, role: "member" | "admin"): Promise<string> {
    await owner.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings", exact: true }).click();
    await owner.getByLabel("Email address").fill(email);
    await owner.getByLabel("Invite as").selectOption(role);
    await owner.getByRole("button", { name: "Invite", exact: true }).click();
    await owner.getByTestId("invitation-sent").filter({ hasText: `Invitation sent to ${email}` }).waitFor();
    await owner.getByRole("button", { name: "Done" }).click();
    return linkIn(await waitForMail(system, { to: email, subject: SUBJECTS.invitation }));
  }

  async function join(link: string): Promise<Page> {
    const page = await newPage();
    await signUpFromInvitation(page, link);
    await page.getByTestId("agent-card").filter({ hasText: "Ada" }).waitFor({ timeout: 10_000 });
    return page;
  }

  it("a member sees no agent edit controls and cannot open a colleague's chat; an admin reads it read-only", async () => {
    const owner = await newPage();
    await signUp(owner, "olga@roles.example");
    await owner.getByLabel("Name").fill("Ada");
    await owner.getByLabel("Role").fill("Research Analyst");
    await owner.getByRole("button", { name: "Create agent" }).click();
    const adminLink = await invite(owner, "adam@roles.example", "admin");
    const memberLink = await invite(owner, "mia@roles.example", "member");

    // The member: a read-only card, and only their own chats.
    const member = await join(memberLink);
    const card = member.getByTestId("agent-card").filter({ hasText: "Ada" });
    expect(await card.getByRole("button", { name: "Chat" }).count()).toBe(1);
    expect(await card.getByRole("button", { name: "Edit" }).count()).toBe(0);
    expect(await card.getByRole("button", { name: "Delete" }).count()).toBe(0);
    expect(await member.getByRole("button", { name: "New agent" }).count()).toBe(0);
    expect(await member.getByRole("button", { name: "Create agent" }).count()).toBe(0);
    await card.getByRole("button", { name: "Chat" }).click();
    const membersChat = await chat(member, "Draft my private memo");
    expect(await member.getByRole("button", { name: "All chats" }).count()).toBe(0);

    // The owner's chat: not in the member's list, and not readable by its URL.
    await owner.goto(`${system.platformUrl}/agents/ada`);
    const ownersChat = await chat(owner, "Board meeting notes");
    const history = member.waitForResponse((response) => response.url().endsWith(`/api/agents/ada/sessions/${ownersChat}`));
    await member.goto(`${system.platformUrl}/agents/ada?session=${encodeURIComponent(ownersChat)}`);
    expect((await history).status()).toBe(404);
    await member.getByTestId("sessions").locator(`[data-session-key="${membersChat}"]`).waitFor({ timeout: 10_000 });
    expect(await member.getByTestId("sessions").locator(`[data-session-key="${ownersChat}"]`).count()).toBe(0);
    await expect.poll(() => member.getByRole("status").filter({ hasText: "Loading chat" }).count()).toBe(0);
    expect(await member.getByTestId("message-user").count()).toBe(0);
    expect(await member.content()).not.toContain("Board meeting notes");

    // The admin: own chats by default, everyone's behind "All chats", a colleague's read-only.
    const admin = await join(adminLink);
    await admin.getByTestId("agent-card").filter({ hasText: "Ada" }).getByRole("button", { name: "Edit" }).waitFor();
    await admin.getByTestId("agent-card").filter({ hasText: "Ada" }).getByRole("button", { name: "Chat" }).click();
    await admin.getByText("No chats yet.").waitFor({ timeout: 10_000 });
    await admin.getByRole("button", { name: "All chats" }).click();
    const item = admin.getByTestId("sessions").locator(`[data-session-key="${membersChat}"]`);
    await item.waitFor({ timeout: 10_000 });
    expect(await item.getByTestId("session-owner").textContent()).toBe("mia@roles.example");
    await item.locator("button.session-open").click();
    await admin.getByTestId("message-user").filter({ hasText: "Draft my private memo" }).waitFor({ timeout: 10_000 });
    await admin.getByTestId("read-only-note").waitFor();
    expect(await admin.getByTestId("read-only-note").textContent()).toContain("mia@roles.example");
    expect(await admin.getByTestId("composer").count()).toBe(0);
    // Renaming another's chat is not offered; exporting and deleting are.
    await item.getByRole("button", { name: /^Actions for / }).click();
    expect(await item.getByRole("button", { name: "Rename" }).count()).toBe(0);
    expect(await item.getByRole("button", { name: "Export JSON" }).count()).toBe(1);

    // A new chat of the admin's own has the composer back.
    await admin.getByRole("button", { name: "New chat" }).click();
    await admin.getByTestId("composer").waitFor();
  });
});
