/**
 * An agent's Work tab in the browser: an owner creates a schedule, runs it now, and sees the firing
 * complete in its history and among the agent's recent autonomous runs, with a link to the session
 * the run wrote to. A bad cron expression is refused with the platform's words. The heartbeat is set up,
 * run now, and its alert shown with a link to its chat. Real platform and
 * gateway (`npm start`, its job runner firing the schedule), Debian chromium.
 */
import type { Browser, BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningSystem } from "./system";
import { chromiumPath, signedUpPage, startWebSystem } from "./web-support";

let system: RunningSystem;
let browser: Browser;
let stop: () => Promise<void>;
let context: BrowserContext | undefined;

describe.runIf(chromiumPath)("an agent's Work tab", () => {
  beforeAll(async () => {
    ({ system, browser, stop } = await startWebSystem());
  }, 180_000);
  afterAll(async () => {
    await context?.close();
    await stop?.();
  });

  it("creates a schedule, runs it now and shows the firing with its run", async () => {
    const signedUp = await signedUpPage(browser, system, "wendy@work.example");
    context = signedUp.context;
    const { page } = signedUp;
    await page.getByLabel("Name").fill("Ada");
    await page.getByLabel("Role", { exact: true }).fill("Research Analyst");
    await page.getByRole("button", { name: "Create agent" }).click();
    await page.getByRole("button", { name: "Work of Ada" }).click();
    await page.getByTestId("work-screen").waitFor({ timeout: 15_000 });
    const schedules = page.getByTestId("schedules-section");
    await expect.poll(() => schedules.textContent(), { timeout: 15_000 }).toContain("No schedules yet.");

    await schedules.getByRole("button", { name: "Add schedule" }).click();
    const form = page.getByTestId("schedule-form");
    await form.getByLabel("Name").fill("Morning report");
    await form.getByLabel("Message").fill("Write the morning report");
    await form.getByLabel("Cron expression").fill("0 61 * * *");
    await form.getByLabel("Time zone").fill("Europe/Berlin");
    await form.getByRole("button", { name: "Create schedule" }).click();
    await expect.poll(() => form.getByTestId("error").textContent(), { timeout: 15_000 }).toMatch(/invalid_schedule.*"0 61 \* \* \*" is not valid/);

    await form.getByLabel("Cron expression").fill("0 9 * * 1-5");
    await form.getByRole("button", { name: "Create schedule" }).click();
    const row = page.getByTestId("schedule-row").filter({ hasText: "Morning report" });
    await row.waitFor({ timeout: 15_000 });
    expect(await row.textContent()).toContain("Cron 0 9 * * 1-5 (Europe/Berlin)");
    expect(await row.getByTestId("schedule-next").textContent()).toMatch(/^Next: /);

    await row.getByRole("button", { name: "Run Morning report now" }).click();
    // The platform's job runner starts the run within a second or two; the gateway answers offline.
    const recent = page.getByTestId("recent-runs");
    await expect
      .poll(() => recent.getByTestId("firing-row").first().getAttribute("data-status"), { timeout: 30_000 })
      .toBe("completed");
    expect(await recent.getByTestId("firing-row").first().textContent()).toContain("Morning report");

    await row.getByRole("button", { name: "History of Morning report" }).click();
    const history = row.getByTestId("schedule-history");
    await expect.poll(() => history.getByTestId("firing-status").first().textContent(), { timeout: 15_000 }).toBe("Completed");
    expect(await history.getByTestId("firing-row").count()).toBe(1);
    expect(await history.textContent()).toContain("run now");

    // The run wrote to the schedule's session: open it from the firing.
    await history.getByRole("link", { name: "Open session" }).click();
    await page.getByTestId("message-user").filter({ hasText: "Write the morning report" }).waitFor({ timeout: 15_000 });
    expect(page.url()).toContain("session=morning-report");

    // Turned off, then deleted.
    await page.getByRole("navigation", { name: "Agent" }).getByRole("link", { name: "Work" }).click();
    const again = page.getByTestId("schedule-row").filter({ hasText: "Morning report" });
    // The switch follows the platform: it flips once the change is saved.
    await again.getByRole("checkbox", { name: "Morning report on" }).click();
    await expect.poll(() => again.getAttribute("data-enabled"), { timeout: 15_000 }).toBe("false");
    await again.getByRole("button", { name: "Delete Morning report" }).click();
    await again.getByRole("button", { name: "Confirm delete" }).click();
    await expect.poll(() => schedules.textContent(), { timeout: 15_000 }).toContain("No schedules yet.");
  });

  it("sets up the heartbeat with its HEARTBEAT.md, runs it now and shows the alert with its chat", async () => {
    const signedUp = await signedUpPage(browser, system, "harriet@work.example");
    const { page } = signedUp;
    try {
      await page.getByLabel("Name").fill("Hal");
      await page.getByLabel("Role", { exact: true }).fill("Night Watch");
      await page.getByRole("button", { name: "Create agent" }).click();
      await page.getByRole("button", { name: "Work of Hal" }).click();
      const panel = page.getByTestId("heartbeat-panel");
      await panel.getByLabel("HEARTBEAT.md").waitFor({ timeout: 15_000 });
      expect(await panel.textContent()).toContain("No heartbeat has run yet.");

      // Only a heading: the panel says heartbeats would be skipped.
      await panel.getByLabel("HEARTBEAT.md").fill("# Checklist");
      expect(await panel.getByTestId("heartbeat-file-hint").textContent()).toContain("heartbeats are skipped");
      await panel.getByLabel("HEARTBEAT.md").fill("# Checklist\n\n- Tell me whether the nightly build is green.");
      await panel.getByLabel("Heartbeat on").check();
      await panel.getByLabel("Every (minutes)").fill("60");
      await panel.getByRole("button", { name: "Save heartbeat" }).click();
      await expect.poll(() => panel.getByTestId("heartbeat-schedule").textContent(), { timeout: 15_000 }).toMatch(/^Every 60 min · next /);

      // The offline model does not answer HEARTBEAT_OK: the heartbeat is an alert, kept in its chat.
      await panel.getByRole("button", { name: "Run now" }).click();
      await expect
        .poll(
          async () => {
            await panel.getByRole("button", { name: "Refresh" }).click();
            return panel.getByTestId("heartbeat-counts").textContent();
          },
          { timeout: 45_000, intervals: [1_000] },
        )
        .toContain("1 alerts");
      expect(await panel.getByTestId("heartbeat-alert").textContent()).toContain("Last alert");
      await panel.getByRole("link", { name: "Open the heartbeat chat" }).click();
      await page.getByTestId("message-assistant").first().waitFor({ timeout: 15_000 });
      expect(page.url()).toContain("session=heartbeat");
    } finally {
      await signedUp.context.close();
    }
  });
});
