/**
 * The platform's Content-Security-Policy holds with the real web app: every main screen works in
 * Chromium without a single violation, and the watcher is shown to catch one when there is one.
 */
import type { Browser, BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningSystem } from "./system";
import { DESKTOP, SUBJECTS, apiAs, askNewAgent, chromiumPath, linkIn, nav, startWebSystem, submitAuth, waitForMail } from "./web-support";

let system: RunningSystem;
let browser: Browser;
let stop: () => Promise<void>;

interface Violation {
  directive: string;
  blocked: string;
}

/** Collects CSP violations from every page of `context`: the DOM event and Chromium's console report. */
async function watchCsp(context: BrowserContext): Promise<{ violations: Violation[]; consoleReports: string[] }> {
  const violations: Violation[] = [];
  const consoleReports: string[] = [];
  // A binding, unlike a page variable, survives navigations and reloads.
  await context.exposeBinding("reportCspViolation", (_source, violation: Violation) => void violations.push(violation));
  await context.addInitScript({
    content: `document.addEventListener("securitypolicyviolation", (event) =>
      window.reportCspViolation({ directive: event.effectiveDirective, blocked: event.blockedURI }));`,
  });
  context.on("page", (page) =>
    page.on("console", (message) => {
      if (/content security policy/i.test(message.text())) consoleReports.push(message.text());
    }),
  );
  return { violations, consoleReports };
}

describe.runIf(chromiumPath)("Content-Security-Policy in Chromium", () => {
  beforeAll(async () => {
    // Slow enough a model that the reply visibly streams.
    ({ system, browser, stop } = await startWebSystem({ OFFLINE_MODEL_DELAY_MS: "30" }));
  }, 120_000);
  afterAll(async () => {
    await stop?.();
  });

  it("walks sign-up, agents, chat, team, API keys, usage, account, operator and the mailed links' pages without one violation", async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    const { violations, consoleReports } = await watchCsp(context);
    const page = await context.newPage();

    const response = await page.goto(system.platformUrl);
    const headers = response?.headers() ?? {};
    expect(headers["content-security-policy"]).toContain("script-src 'self'; style-src 'self'");
    expect(headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(headers["x-frame-options"]).toBe("DENY");
    expect(headers["referrer-policy"]).toBe("no-referrer");

    await submitAuth(page, "csp@example.com", "Sign up");
    await askNewAgent(page);
    await page.locator("[data-testid=message-assistant][data-status=streaming]").filter({ hasText: /\w/ }).waitFor({ timeout: 10_000 });
    await page.locator("[data-testid=message-assistant][data-status=ok]").waitFor({ timeout: 20_000 });
    expect(await page.getByTestId("message-assistant").textContent()).toContain("Research Analyst");
    await page.reload();
    await page.locator("[data-testid=message-assistant][data-status=ok]").waitFor({ timeout: 20_000 });

    await nav(page, "Team");
    await page.getByLabel("Email address").fill("teammate@example.com");
    await page.getByRole("button", { name: "Invite", exact: true }).click();
    await page.getByTestId("invitation-sent").waitFor();

    // The account's own pages and the operator's (the first account runs the installation).
    await page.getByRole("banner").getByRole("link", { name: "csp@example.com" }).click();
    await page.getByTestId("account-email").waitFor();
    await nav(page, "Operator");
    await page.getByTestId("operator-row").first().waitFor();

    await nav(page, "API keys");
    await page.getByLabel("Key name").fill("CI bot");
    await page.getByRole("button", { name: "Create key" }).click();
    expect(await page.getByLabel("Secret of CI bot").inputValue()).toMatch(/^wf_/);

    await nav(page, "Usage");
    await page.getByTestId("usage-chart").waitFor({ timeout: 10_000 });
    await expect.poll(() => page.getByTestId("usage-chart").locator("rect.series").count(), { timeout: 10_000 }).toBe(1);

    // The API's own docs page is under the same policy.
    const docs = await page.goto(`${system.platformUrl}/api/docs`);
    expect(docs?.headers()["content-security-policy"]).toContain("style-src 'self'");
    await page.getByRole("heading", { name: "Workforce platform API" }).waitFor();
    expect(await page.evaluate<string>('getComputedStyle(document.querySelector("table")).borderCollapse')).toBe("collapse");

    await page.goto(system.platformUrl);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("button", { name: "Sign in" }).waitFor();

    // The pages mailed links open: an invitation, signed out, and a confirmation link (of a second
    // account: the first, the operator's, is confirmed without a mail).
    await page.goto(linkIn(await waitForMail(system, { to: "teammate@example.com", subject: SUBJECTS.invitation })));
    await page.getByTestId("invitation-summary").waitFor();
    await apiAs(system, "second@example.com", { signUp: true });
    await page.goto(linkIn(await waitForMail(system, { to: "second@example.com", subject: SUBJECTS.confirmSignup })));
    await page.getByTestId("notice").filter({ hasText: "Your address is confirmed." }).waitFor({ timeout: 10_000 });
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("button", { name: "Forgot password?" }).click();
    await page.getByRole("heading", { name: "Reset your password" }).waitFor();

    expect(violations).toEqual([]);
    expect(consoleReports).toEqual([]);

    // The watcher is not blind: markup a policy refuses is reported on both channels.
    await page.evaluate(`document.body.insertAdjacentHTML("beforeend", '<img alt="" src="https://tracker.invalid/pixel.png">')`);
    await expect.poll(() => violations).toEqual([{ directive: "img-src", blocked: "https://tracker.invalid/pixel.png" }]);
    await expect.poll(() => consoleReports.length).toBe(1);
    await context.close();
  }, 90_000);
});
