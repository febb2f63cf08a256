/**
 * The account flows of a stranger's installation in the browser, with confirmation required:
 * sign up and confirm by the mailed link or by its code; a forgotten password reset from the
 * mail; a new password from the account settings; a new address confirmed at that address;
 * signing out everywhere. Every link and code is read from the system's outbox.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningSystem } from "./system";
import { DESKTOP, PASSWORD, SUBJECTS, apiAs, chromiumPath, codeIn, linkIn, mailsTo, startWebSystem, submitAuth, waitForMail } from "./web-support";

const RESET_PASSWORD = "a brand new password";
const CHANGED_PASSWORD = "yet another password";

let system: RunningSystem;
let browser: Browser;
let stop: () => Promise<void>;
const contexts: BrowserContext[] = [];

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: DESKTOP });
  contexts.push(context);
  return context.newPage();
}

async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.getByRole("button", { name: "Sign in" }).waitFor({ timeout: 10_000 });
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

const notice = (page: Page, text: string) => page.getByTestId("notice").filter({ hasText: text }).waitFor({ timeout: 15_000 });
const agents = (page: Page) => page.getByRole("heading", { name: "Agents" }).waitFor({ timeout: 15_000 });
const accountLink = (page: Page, email: string) => page.getByRole("banner").getByRole("link", { name: email });

describe.runIf(chromiumPath)("account flows in the web app (confirmation required)", () => {
  beforeAll(async () => {
    ({ system, browser, stop } = await startWebSystem({ WORKFORCE_EMAIL_CONFIRMATION: "required" }));
    // The installation's first account is its operator, confirmed without a mail; the strangers
    // these flows are about come after it.
    await apiAs(system, "operator@example.com", { signUp: true });
  }, 120_000);
  afterAll(async () => {
    for (const context of contexts) await context.close();
    await stop?.();
  });

  it("a new account confirms its address by the mailed link before it can sign in; the link works once", async () => {
    const page = await newPage();
    await page.goto(system.platformUrl);
    await submitAuth(page, "ava@example.com", "Sign up");
    await page.getByRole("heading", { name: "Check your email" }).waitFor({ timeout: 15_000 });
    expect(await page.getByRole("main").textContent()).toContain("We sent a link to ava@example.com");

    // Signing in first is refused in words, with the way to get the mail again.
    await page.getByRole("button", { name: "Back to sign in" }).click();
    await submitAuth(page, "ava@example.com", "Sign in");
    const refusal = page.getByTestId("error").filter({ hasText: "Confirm your email first" });
    await refusal.waitFor({ timeout: 10_000 });
    expect(await refusal.textContent()).toContain("email_not_confirmed");
    await refusal.getByRole("button", { name: "Send it again" }).click();
    await page.getByRole("heading", { name: "Check your email" }).waitFor();
    await expect.poll(async () => (await mailsTo(system, "ava@example.com", SUBJECTS.confirmSignup)).length, { timeout: 10_000 }).toBe(2);
    // One mail a minute: asking again at once is refused with the server's own message.
    await page.getByRole("button", { name: "Send it again" }).click();
    const limited = page.getByTestId("error").filter({ hasText: "rate_limited" });
    await limited.waitFor({ timeout: 10_000 });
    expect(await limited.textContent()).toContain("An email like this was sent to this address a moment ago; try again in");

    // The newest link confirms the address and signs in.
    const link = linkIn((await mailsTo(system, "ava@example.com", SUBJECTS.confirmSignup))[0]!);
    await page.goto(link);
    await notice(page, "Your address is confirmed.");
    await agents(page);
    expect(await page.getByTestId("unconfirmed-banner").count()).toBe(0);
    expect(new URL(page.url()).pathname).toBe("/");

    // A second visit finds it used, says so, and points back into the app.
    await page.goto(link);
    await page.getByRole("heading", { name: "This link has expired" }).waitFor({ timeout: 10_000 });
    expect(await page.getByTestId("error").textContent()).toContain("expired or was already used");
    await page.getByRole("link", { name: "Open Workforce" }).click();
    await agents(page);
  });

  it("confirms by the 6-digit code typed by hand, after a wrong one is refused", async () => {
    const page = await newPage();
    await page.goto(system.platformUrl);
    await submitAuth(page, "ben@example.com", "Sign up");
    await page.getByRole("heading", { name: "Check your email" }).waitFor({ timeout: 15_000 });
    const code = codeIn(await waitForMail(system, { to: "ben@example.com", subject: SUBJECTS.confirmSignup }));

    await page.getByLabel("Code from the email").fill(code === "000000" ? "111111" : "000000");
    await page.getByRole("button", { name: "Confirm", exact: true }).click();
    await page.getByTestId("error").filter({ hasText: "That code is wrong or has expired" }).waitFor({ timeout: 10_000 });

    await page.getByLabel("Code from the email").fill(code);
    await page.getByRole("button", { name: "Confirm", exact: true }).click();
    await notice(page, "Your address is confirmed.");
    await agents(page);
  });

  it("forgot password: the same answer for any address, the mailed link sets a new one, and only the new one signs in", async () => {
    const page = await newPage();
    await page.goto(system.platformUrl);
    await page.getByRole("button", { name: "Forgot password?" }).click();
    await page.getByRole("heading", { name: "Reset your password" }).waitFor();
    await page.getByLabel("Email").fill("ava@example.com");
    await page.getByRole("button", { name: "Send reset link" }).click();
    const answer = page.getByRole("status").filter({ hasText: "If an account exists for" });
    await answer.waitFor({ timeout: 10_000 });
    expect(await answer.textContent()).toContain("If an account exists for ava@example.com, we sent it a link");

    // Nobody has this address: the page answers exactly the same, and no mail goes out.
    await page.getByRole("button", { name: "Use another address" }).click();
    await page.getByLabel("Email").fill("nobody@example.com");
    await page.getByRole("button", { name: "Send reset link" }).click();
    await answer.filter({ hasText: "nobody@example.com" }).waitFor({ timeout: 10_000 });
    expect(await answer.textContent()).toContain("If an account exists for nobody@example.com, we sent it a link");
    expect(await mailsTo(system, "nobody@example.com", /./)).toEqual([]);

    await page.goto(linkIn(await waitForMail(system, { to: "ava@example.com", subject: SUBJECTS.recovery })));
    await page.getByRole("heading", { name: "Choose a new password" }).waitFor({ timeout: 10_000 });
    await page.getByLabel("New password").fill(RESET_PASSWORD);
    await page.getByRole("button", { name: "Save password" }).click();
    await notice(page, "Your new password is saved.");
    await agents(page);

    await page.getByRole("button", { name: "Sign out", exact: true }).click();
    await signIn(page, "ava@example.com", PASSWORD);
    await page.getByTestId("error").filter({ hasText: "Wrong email or password." }).waitFor({ timeout: 10_000 });
    await signIn(page, "ava@example.com", RESET_PASSWORD);
    await agents(page);
  });

  it("changes the password in the account settings, which signs out the other devices; then signs out everywhere", async () => {
    const [here, elsewhere] = [await newPage(), await newPage()];
    for (const page of [here, elsewhere]) {
      await page.goto(system.platformUrl);
      await signIn(page, "ava@example.com", RESET_PASSWORD);
      await agents(page);
    }

    await accountLink(here, "ava@example.com").click();
    await here.getByRole("heading", { name: "Account" }).waitFor();
    expect(await here.getByTestId("account-email").textContent()).toBe("ava@example.com");
    expect(await here.getByRole("main").textContent()).toContain("Confirmed");
    await here.getByLabel("New password").fill(CHANGED_PASSWORD);
    await here.getByRole("button", { name: "Change password" }).click();
    await here.getByRole("status").filter({ hasText: "Your new password is saved." }).waitFor({ timeout: 10_000 });
    await waitForMail(system, { to: "ava@example.com", subject: SUBJECTS.passwordChanged });

    // The other browser's sign-in ended: its next step lands on the sign-in screen.
    await elsewhere.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings", exact: true }).click();
    await signIn(elsewhere, "ava@example.com", CHANGED_PASSWORD);
    await elsewhere.getByRole("heading", { name: "Team" }).waitFor({ timeout: 15_000 });

    // This one stays signed in, and can end every sign-in at once.
    await here.reload();
    await here.getByRole("heading", { name: "Account" }).waitFor({ timeout: 10_000 });
    await here.getByRole("button", { name: "Sign out everywhere" }).click();
    await here.getByRole("button", { name: "Confirm sign out everywhere" }).click();
    await here.getByRole("button", { name: "Sign in" }).waitFor({ timeout: 10_000 });
    await elsewhere.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Usage", exact: true }).click();
    await elsewhere.getByRole("button", { name: "Sign in" }).waitFor({ timeout: 15_000 });
  });

  it("changes the email address: pending until confirmed at the new address, then only the new one signs in", async () => {
    const page = await newPage();
    await page.goto(system.platformUrl);
    await signIn(page, "ben@example.com", PASSWORD);
    await agents(page);
    await accountLink(page, "ben@example.com").click();
    await page.getByLabel("New email address").fill("ben.new@example.com");
    await page.getByRole("button", { name: "Change email" }).click();
    const pending = page.getByTestId("pending-email");
    await pending.waitFor({ timeout: 10_000 });
    expect(await pending.textContent()).toContain("Confirm the new address: we sent a link to ben.new@example.com");
    // The server remembers it: still pending after a reload, and the old address still counts.
    await page.reload();
    await pending.waitFor({ timeout: 10_000 });
    expect(await page.getByTestId("account-email").textContent()).toBe("ben@example.com");

    await page.goto(linkIn(await waitForMail(system, { to: "ben.new@example.com", subject: SUBJECTS.emailChange })));
    await notice(page, "Your address is now ben.new@example.com.");
    await page.getByRole("heading", { name: "Account" }).waitFor();
    await expect.poll(() => page.getByTestId("account-email").textContent(), { timeout: 10_000 }).toBe("ben.new@example.com");
    expect(await page.getByTestId("pending-email").count()).toBe(0);
    await accountLink(page, "ben.new@example.com").waitFor();

    await page.getByRole("button", { name: "Sign out", exact: true }).click();
    await signIn(page, "ben@example.com", PASSWORD);
    await page.getByTestId("error").filter({ hasText: "Wrong email or password." }).waitFor({ timeout: 10_000 });
    await signIn(page, "ben.new@example.com", PASSWORD);
    await agents(page);
  });
});
