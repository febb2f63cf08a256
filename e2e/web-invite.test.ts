/**
 * Invitations in the browser, as the people involved see them: the owner invites from the Team
 * screen (the link goes only to the invited address, here through the outbox); the invited
 * person opens it, sees who invited them where, and signs up from it into that organisation and
 * no other; an existing account must have confirmed its address first; another account is told
 * whose invitation it is. Default loopback policy: open sign-up, optional confirmation.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningSystem } from "./system";
import {
  DESKTOP,
  PASSWORD,
  SUBJECTS,
  apiAs,
  chromiumPath,
  linkIn,
  mailIds,
  mailsTo,
  nav,
  organisationsOf,
  selectedOrganisation,
  signUpFromInvitation,
  startWebSystem,
  submitAuth,
  waitForMail,
} from "./web-support";

let system: RunningSystem;
let browser: Browser;
let stop: () => Promise<void>;
let owner: Page;
const contexts: BrowserContext[] = [];

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: DESKTOP });
  contexts.push(context);
  return context.newPage();
}

async function signedUp(email: string): Promise<Page> {
  const page = await newPage();
  await page.goto(system.platformUrl);
  await submitAuth(page, email, "Sign up");
  await page.getByRole("heading", { name: "Agents" }).waitFor({ timeout: 15_000 });
  return page;
}

/** The owner invites `email` from the Team screen; returns the link from the mail sent to that address. */
async function inviteFromTeam(email: string): Promise<string> {
  const before = await mailIds(system);
  await nav(owner, "Team");
  await owner.getByLabel("Email address").fill(email);
  await owner.getByRole("button", { name: "Invite", exact: true }).click();
  const sent = owner.getByTestId("invitation-sent").filter({ hasText: `Invitation sent to ${email}.` });
  await sent.waitFor({ timeout: 10_000 });
  expect(await sent.textContent()).toContain("Mail is not configured on this server: the message is in the outbox");
  expect(await sent.textContent()).toContain("opens only in a browser on the server's own machine");
  await owner.getByTestId("invitation-row").filter({ hasText: email }).waitFor();
  return linkIn(await waitForMail(system, { to: email, subject: SUBJECTS.invitation, notIn: before }));
}

describe.runIf(chromiumPath)("invitations in the web app", () => {
  beforeAll(async () => {
    ({ system, browser, stop } = await startWebSystem());
    owner = await signedUp("olivia@example.com");
    await nav(owner, "Team");
    await owner.getByLabel("Organisation name", { exact: true }).fill("Acme");
    await owner.getByRole("button", { name: "Rename" }).click();
    await owner.locator(".tenant-name").filter({ hasText: /^Acme$/ }).waitFor();
  }, 120_000);
  afterAll(async () => {
    for (const context of contexts) await context.close();
    await stop?.();
  });

  it("a new person opens the link, sees the organisation and who invited them, signs up from it and lands in it, owning no other", async () => {
    const link = await inviteFromTeam("newbie@example.com");
    const page = await newPage();
    await page.goto(link);
    await page.getByRole("heading", { name: "Join Acme" }).waitFor({ timeout: 10_000 });
    expect(await page.getByTestId("invitation-summary").textContent()).toBe("olivia@example.com invited you to join Acme as a member.");
    // The address is the invited one and cannot be changed here.
    expect(await page.getByLabel("Email").inputValue()).toBe("newbie@example.com");
    expect(await page.getByLabel("Email").getAttribute("readonly")).not.toBeNull();

    await signUpFromInvitation(page, link);
    expect(await page.getByTestId("notice").textContent()).toContain("You joined Acme as a member.");
    expect(await selectedOrganisation(page)).toBe("Acme");
    expect(await page.getByLabel("Organisation").count()).toBe(0);
    // Signing up from the mailed link confirmed the address: no banner asks for it.
    expect(await page.getByTestId("unconfirmed-banner").count()).toBe(0);
    const newbie = await apiAs(system, "newbie@example.com");
    expect((await organisationsOf(newbie)).map((tenant) => [tenant.name, tenant.role])).toEqual([["Acme", "member"]]);

    await owner.reload();
    await owner.getByTestId("member-row").filter({ hasText: "newbie@example.com" }).waitFor({ timeout: 10_000 });
    expect(await owner.getByTestId("invitation-row").filter({ hasText: "newbie@example.com" }).count()).toBe(0);

    // The link worked once.
    await page.goto(link);
    await page.getByRole("heading", { name: "This invitation has expired or was already used" }).waitFor({ timeout: 10_000 });
    await page.getByRole("link", { name: "Open Workforce" }).click();
    await page.getByRole("heading", { name: "Agents" }).waitFor();
  });

  it("an existing account with an unconfirmed address is told to confirm first; confirmed, it joins and the organisation is selected", async () => {
    const carl = await signedUp("carl@example.com");
    await carl.getByTestId("unconfirmed-banner").waitFor();
    expect(await carl.getByTestId("unconfirmed-banner").textContent()).toContain("Confirm your email address.");
    const link = await inviteFromTeam("carl@example.com");

    await carl.goto(link);
    const confirmFirst = carl.getByTestId("confirm-first");
    await confirmFirst.waitFor({ timeout: 10_000 });
    expect(await confirmFirst.textContent()).toContain("Confirm your email first.");
    // Trying anyway is refused, and the page keeps saying why.
    const refused = carl.waitForResponse((response) => response.url().endsWith("/api/invitations/accept"));
    await carl.getByRole("button", { name: "Join Acme" }).click();
    expect((await refused).status()).toBe(403);
    expect(await confirmFirst.isVisible()).toBe(true);
    const client = await apiAs(system, "carl@example.com");
    expect((await organisationsOf(client)).map((tenant) => tenant.name)).toEqual(["carl's organisation"]);

    // A fresh confirmation link, opened in this browser, confirms the address.
    const before = await mailsTo(system, "carl@example.com", SUBJECTS.confirmSignup);
    await confirmFirst.getByRole("button", { name: "Send it again" }).click();
    await confirmFirst.getByText("We sent a new link to carl@example.com.").waitFor({ timeout: 10_000 });
    const fresh = await waitForMail(system, { to: "carl@example.com", subject: SUBJECTS.confirmSignup, notIn: new Set(before.map((mail) => mail.id)) });
    await carl.goto(linkIn(fresh));
    await carl.getByTestId("notice").filter({ hasText: "Your address is confirmed." }).waitFor({ timeout: 10_000 });
    expect(await carl.getByTestId("unconfirmed-banner").count()).toBe(0);

    await carl.goto(link);
    await carl.getByRole("button", { name: "Join Acme" }).click();
    await carl.getByTestId("notice").filter({ hasText: "You joined Acme as a member." }).waitFor({ timeout: 10_000 });
    await carl.getByRole("heading", { name: "Agents" }).waitFor();
    expect(await selectedOrganisation(carl)).toBe("Acme (member)");
    await carl.reload();
    await carl.getByRole("heading", { name: "Agents" }).waitFor({ timeout: 10_000 });
    expect(await selectedOrganisation(carl)).toBe("Acme (member)");
  });

  it("signed in as another address, the page says whose invitation it is; after signing out the invited person signs up", async () => {
    const link = await inviteFromTeam("erin@example.com");
    const dora = await signedUp("dora@example.com");
    await dora.goto(link);
    const note = dora.getByRole("note").filter({ hasText: "This invitation is for" });
    await note.waitFor({ timeout: 10_000 });
    expect(await note.textContent()).toBe(
      "This invitation is for erin@example.com, but you are signed in as dora@example.com. Sign out, then sign in or sign up with the invited address; this link stays open.",
    );
    expect(await dora.getByRole("button", { name: "Join Acme" }).count()).toBe(0);

    await dora.getByRole("button", { name: "Sign out" }).click();
    await dora.getByRole("button", { name: "Sign up and join Acme" }).waitFor({ timeout: 10_000 });
    expect(await dora.getByLabel("Email").inputValue()).toBe("erin@example.com");
    await dora.getByLabel("Password").fill(PASSWORD);
    await dora.getByRole("button", { name: "Sign up and join Acme" }).click();
    await dora.getByTestId("notice").filter({ hasText: "You joined Acme as a member." }).waitFor({ timeout: 15_000 });
    await dora.getByRole("banner").getByRole("link", { name: "erin@example.com" }).waitFor();
  });
});
