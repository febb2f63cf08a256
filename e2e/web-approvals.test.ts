/**
 * Tool approvals in the web app, through the whole system (`npm start`: the real gateway and
 * platform, the fake Anthropic upstream): an owner makes Ada's `write_file` "Ask first"; a chat
 * whose (scripted) model writes a file pauses with the call shown in the reply, not as a failure;
 * the Approvals link's count appears live in another tab, where the call is approved from the
 * inbox; and the chat follows the reply that carries on, with the call done.
 */
import { startFakeUpstream, type FakeUpstream } from "@workforce/fake-upstream";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningSystem } from "./system";
import { chromiumPath, signedUpPage, startWebSystem } from "./web-support";

const FAKE_API_KEY = "sk-ant-e2e-approvals";
let system: RunningSystem;
let browser: Browser;
let stop: () => Promise<void>;
let fake: FakeUpstream;

describe.runIf(chromiumPath)("tool approvals in the web app", () => {
  beforeAll(async () => {
    fake = await startFakeUpstream({ apiKey: FAKE_API_KEY });
    ({ system, browser, stop } = await startWebSystem({ ANTHROPIC_API_KEY: FAKE_API_KEY, ANTHROPIC_BASE_URL: fake.url }));
  }, 180_000);
  afterAll(async () => {
    await stop?.();
    await fake?.close();
  });

  it("pauses a chat at an 'ask first' tool, counts it live in the inbox, and the chat carries on once it is approved there", async () => {
    const { context, page } = await signedUpPage(browser, system, "approver@example.com");
    await page.getByLabel("Name").fill("Ada");
    await page.getByLabel("Role", { exact: true }).fill("Research Analyst");
    await page.getByRole("button", { name: "Create agent" }).click();
    const card = page.locator("[data-testid=agent-card][data-agent=ada]");
    await card.waitFor();
    await card.getByRole("button", { name: "Tools of Ada" }).click();
    await card.getByLabel("write_file (workspace)").selectOption("ask");
    await card.getByRole("button", { name: "Save workspace tools" }).click();
    await card.getByTestId("agent-workspace-tools").getByRole("status").filter({ hasText: "Saved." }).waitFor();

    // A second tab on the inbox, with nothing waiting yet.
    const inbox = await context.newPage();
    await inbox.goto(`${system.platformUrl}/approvals`);
    await inbox.getByTestId("approvals-empty").waitFor({ timeout: 15_000 });
    expect(await inbox.getByTestId("approvals-count").count()).toBe(0);

    fake.enqueue({ kind: "tool_use", name: "write_file", input: { path: "notes/shopping.md", content: "Buy milk\nBuy bread" } }, { kind: "text", text: "Saved your list." });
    await card.getByRole("button", { name: "Chat" }).click();
    await page.getByTestId("composer").fill("Write down my shopping list.");
    await page.getByRole("button", { name: "Send", exact: true }).click();
    // Paused, not failed: the call to decide is in the reply, and the composer waits for it.
    const paused = page.locator("[data-testid=message-assistant][data-status=paused]");
    await paused.waitFor({ timeout: 30_000 });
    expect(await paused.getByTestId("error").count()).toBe(0);
    const prompt = paused.getByTestId("approval-prompt");
    expect(await prompt.getAttribute("data-status")).toBe("pending");
    expect(await prompt.textContent()).toContain("notes/shopping.md");
    expect(await page.getByTestId("composer").isDisabled()).toBe(true);

    // The other tab hears of it without a reload: the count, and the card with the arguments.
    await inbox.getByTestId("approvals-count").filter({ hasText: "1" }).waitFor({ timeout: 10_000 });
    const waiting = inbox.locator("[data-testid=approval-card][data-status=pending]");
    await waiting.waitFor({ timeout: 10_000 });
    expect(await waiting.locator(".tool-name").textContent()).toBe("write_file");
    expect(await waiting.locator("[data-argument=path]").textContent()).toContain("notes/shopping.md");
    expect(await waiting.locator("[data-argument=content]").textContent()).toContain("Buy milk");
    await waiting.getByRole("button", { name: "Approve" }).click();
    await inbox.getByTestId("approvals-empty").waitFor({ timeout: 10_000 });
    await inbox.getByTestId("approvals-count").waitFor({ state: "detached", timeout: 10_000 });
    await inbox.getByRole("tab", { name: "History" }).click();
    const decided = inbox.locator("[data-testid=approval-card][data-status=approved]");
    await decided.waitFor({ timeout: 10_000 });
    expect(await decided.getByTestId("approval-outcome").textContent()).toContain("Approved by approver@example.com");

    // The chat follows the reply the decision started: the call done, the model's answer after it.
    await prompt.and(page.locator("[data-status=approved]")).waitFor({ timeout: 15_000 });
    const carriedOn = page.locator("[data-testid=message-assistant][data-status=ok]").last();
    await carriedOn.waitFor({ timeout: 30_000 });
    expect(await carriedOn.textContent()).toContain("Saved your list.");
    expect(await carriedOn.getByTestId("tool-call").textContent()).toContain("write_file");
    expect(await page.getByTestId("composer").isDisabled()).toBe(false);
    await context.close();
  }, 120_000);
});
