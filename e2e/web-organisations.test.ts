/**
 * Losing an organisation is never a dead end: leaving it, being removed from it, or its deletion
 * lands on the next organisation or on the welcome screen, in the browser that had it selected,
 * across reloads and a new sign-in; a stale remembered organisation id is simply dropped.
 */
import { randomUUID } from "node:crypto";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestClient } from "./client";
import type { RunningSystem } from "./system";
import {
  DESKTOP,
  WELCOME,
  SUBJECTS,
  apiAs,
  chromiumPath,
  deleteOrganisation,
  expectWelcome,
  invite,
  joinFromInvitation,
  linkIn,
  nav,
  organisationsOf,
  selectedOrganisation,
  signUpFromInvitation,
  signedUpPage,
  startWebSystem,
  submitAuth,
  waitForMail,
} from "./web-support";

let system: RunningSystem;
let browser: Browser;
let stop: () => Promise<void>;

describe.runIf(chromiumPath)("losing an organisation in the web app", () => {
  beforeAll(async () => {
    ({ system, browser, stop } = await startWebSystem());
  }, 120_000);
  afterAll(async () => {
    await stop?.();
  });

  /** An owner (API only) with an organisation named `name`. */
  async function ownerOf(email: string, name: string): Promise<{ owner: TestClient; tenant: { id: string; name: string } }> {
    const owner = await apiAs(system, email, { signUp: true });
    const own = (await organisationsOf(owner))[0]!;
    const renamed = await owner.request("PATCH", "/api/tenant", { name }, { "x-tenant-id": own.id });
    expect(renamed.status).toBe(200);
    return { owner, tenant: { id: own.id, name } };
  }

  /**
   * `email` signs up from the invitation link in a browser, which joins that organisation and
   * gives them none of their own, so it is their only one.
   */
  async function onlyMemberOf(inviteUrl: string, email: string): Promise<{ page: Page; client: TestClient; close: () => Promise<void> }> {
    const context = await browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    await signUpFromInvitation(page, inviteUrl);
    const client = await apiAs(system, email);
    expect(await organisationsOf(client)).toHaveLength(1);
    return { page, client, close: () => context.close() };
  }

  it("leaving your only organisation lands on the welcome screen, also after signing out and in", async () => {
    const { owner, tenant } = await ownerOf("leave-owner@example.com", "Leavers Inc");
    const member = await onlyMemberOf(await invite(owner, system, tenant.id, "leaver@example.com"), "leaver@example.com");
    const { page } = member;
    expect(await selectedOrganisation(page)).toBe("Leavers Inc");

    await nav(page, "Team");
    await page.getByRole("button", { name: "Leave" }).click();
    await page.getByRole("button", { name: "Confirm leave" }).click();
    await expectWelcome(page);

    await page.reload();
    await expectWelcome(page);
    // The browser still remembers the organisation it left; signing in again is not a dead end.
    await page.getByRole("button", { name: "Sign out" }).click();
    await submitAuth(page, "leaver@example.com", "Sign in");
    await expectWelcome(page);

    // From the welcome screen a new organisation works straight away.
    await page.getByLabel("New organisation name").fill("Fresh Start");
    await page.getByRole("button", { name: "Create organisation" }).click();
    await page.getByRole("heading", { name: "Agents" }).waitFor({ timeout: 15_000 });
    expect(await selectedOrganisation(page)).toBe("Fresh Start");
    await member.close();
  });

  it("a member removed while the app is open lands on the welcome screen at their next step and after a reload", async () => {
    const { owner, tenant } = await ownerOf("remove-owner@example.com", "Removers Ltd");
    const member = await onlyMemberOf(await invite(owner, system, tenant.id, "removed@example.com"), "removed@example.com");
    const { page } = member;
    const memberId = (await member.client.json<{ user: { id: string } }>("GET", "/api/me")).body.user.id;

    const removed = await owner.request("DELETE", `/api/members/${memberId}`, undefined, { "x-tenant-id": tenant.id });
    expect(removed.status).toBe(204);

    // The page still shows the organisation; the next call about it answers 403, and the app re-reads.
    await nav(page, "Team");
    await expectWelcome(page);
    expect(await page.getByText("forbidden").count()).toBe(0);
    await page.reload();
    await expectWelcome(page);
    await member.close();
  });

  it("a remembered organisation id the user does not belong to is dropped, and the app opens normally", async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    await page.goto(system.platformUrl);
    const stale = randomUUID();
    await page.evaluate(`localStorage.setItem("workforce.tenantId", ${JSON.stringify(stale)})`);
    await submitAuth(page, "stale@example.com", "Sign up");
    await page.getByRole("heading", { name: "Agents" }).waitFor({ timeout: 15_000 });
    expect(await selectedOrganisation(page)).toBe("stale's organisation");
    expect(await page.getByTestId("error").count()).toBe(0);

    // Planted again into a signed-in browser and reloaded: the same.
    await page.evaluate(`localStorage.setItem("workforce.tenantId", ${JSON.stringify(stale)})`);
    await page.reload();
    await page.getByRole("heading", { name: "Agents" }).waitFor({ timeout: 15_000 });
    await page.getByLabel("Name").waitFor();
    expect(await page.getByTestId("error").count()).toBe(0);
    expect(await page.evaluate<string | null>('localStorage.getItem("workforce.tenantId")')).not.toBe(stale);
    await context.close();
  });

  it("leaving one of two organisations selects the other one", async () => {
    const { owner, tenant } = await ownerOf("two-owner@example.com", "Second Home");
    const acceptUrl = await invite(owner, system, tenant.id, "two@example.com");
    const { context, page } = await signedUpPage(browser, system, "two@example.com");
    // Joining needs a confirmed address: the link in the confirmation mail, opened in the same browser.
    await page.goto(linkIn(await waitForMail(system, { to: "two@example.com", subject: SUBJECTS.confirmSignup })));
    await page.getByTestId("notice").filter({ hasText: "Your address is confirmed." }).waitFor({ timeout: 15_000 });
    await joinFromInvitation(page, acceptUrl);
    expect(await selectedOrganisation(page)).toBe("Second Home (member)");

    await nav(page, "Team");
    await page.getByRole("button", { name: "Leave" }).click();
    await page.getByRole("button", { name: "Confirm leave" }).click();
    await page.getByRole("heading", { name: "Agents" }).waitFor({ timeout: 15_000 });
    expect(await selectedOrganisation(page)).toBe("two's organisation");
    await page.reload();
    await page.getByRole("heading", { name: "Agents" }).waitFor({ timeout: 15_000 });
    expect(await selectedOrganisation(page)).toBe("two's organisation");
    expect(await page.getByText(WELCOME).count()).toBe(0);
    await context.close();
  });

  it("an owner whose only organisation is deleted lands on the welcome screen", async () => {
    const { context, page } = await signedUpPage(browser, system, "eraser@example.com");
    const client = await apiAs(system, "eraser@example.com");
    // Deleted elsewhere (the API, another tab) while the app is open: the next screen it opens finds it gone.
    await deleteOrganisation(client, (await organisationsOf(client))[0]!);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings", exact: true }).click();
    await expectWelcome(page);
    await page.reload();
    await expectWelcome(page);
    await context.close();
  });
});
