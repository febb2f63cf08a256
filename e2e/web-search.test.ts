/**
 * Search over chats and generated titles in the browser (issue 16, decision 043), on the real
 * platform and gateway (`npm start`: its usage ingest and job runner index each chat after its
 * runs) with Debian chromium. The gateway answers offline, so chats are named by the fallback (the
 * first message's first sentence): two chats that both began with "Who are you?" share a title and
 * are told apart in the sessions list by how they ended. Search finds a chat by a word of its
 * messages, marks the word in the snippet, and opens the chat.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningSystem } from "./system";
import { askNewAgent, chromiumPath, signedUpPage, startWebSystem } from "./web-support";

let system: RunningSystem;
let browser: Browser;
let stop: () => Promise<void>;
let context: BrowserContext | undefined;

async function send(page: Page, message: string): Promise<void> {
  const replies = await page.locator("[data-testid=message-assistant][data-status=ok]").count();
  await page.getByTestId("composer").fill(message);
  await page.getByRole("button", { name: "Send", exact: true }).click();
  await expect.poll(() => page.locator("[data-testid=message-assistant][data-status=ok]").count(), { timeout: 30_000 }).toBe(replies + 1);
}

describe.runIf(chromiumPath)("search over chats", () => {
  beforeAll(async () => {
    ({ system, browser, stop } = await startWebSystem({ WORKFORCE_USAGE_INGEST_MS: "300" }));
  }, 180_000);
  afterAll(async () => {
    await context?.close();
    await stop?.();
  });

  it("names chats, tells same-titled ones apart, finds a chat by a word of its messages and opens it", async () => {
    const signedUp = await signedUpPage(browser, system, "sara@search.example");
    context = signedUp.context;
    const { page } = signedUp;
    await askNewAgent(page);
    await page.locator("[data-testid=message-assistant][data-status=ok]").first().waitFor({ timeout: 30_000 });
    await send(page, "Summarise the zanzibar merger");
    await page.getByRole("button", { name: "New chat" }).click();
    await expect.poll(() => page.getByTestId("message-assistant").count(), { timeout: 15_000 }).toBe(0);
    await send(page, "Who are you?");
    await send(page, "Plan the Lisbon offsite");

    // Both chats get their title once indexed (the fallback: no model online), then read alike;
    // the list tells them apart by their last message.
    const items = page.getByTestId("session-item");
    await expect
      .poll(
        async () => {
          await page.reload();
          await items.first().waitFor({ timeout: 15_000 });
          return items.locator(".session-title").allTextContents();
        },
        { timeout: 60_000, interval: 1_000 },
      )
      .toEqual(["Who are you?", "Who are you?"]);
    const previews = await items.getByTestId("session-preview").allTextContents();
    expect(previews).toHaveLength(2);
    expect(previews[0]).toContain("Lisbon");
    expect(previews[1]).toContain("zanzibar");

    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Search", exact: true }).click();
    await page.getByRole("heading", { name: "Search chats" }).waitFor({ timeout: 15_000 });
    const box = page.getByRole("searchbox", { name: "Search chats" });
    await box.fill("zanzib");
    await box.press("Enter");
    const result = page.getByTestId("search-result");
    await expect.poll(() => result.count(), { timeout: 15_000 }).toBe(1);
    // The word is marked where it occurs: in the question and in the reply that echoes it.
    const marks = await result.locator("mark").allTextContents();
    expect(marks.length).toBeGreaterThan(0);
    expect(new Set(marks)).toEqual(new Set(["zanzibar"]));
    expect(await result.textContent()).toContain("Who are you?");
    expect(page.url()).toContain("/search?q=zanzib");

    await result.getByRole("link", { name: "Who are you?" }).click();
    await expect.poll(() => page.getByTestId("message-user").locator(".plain-text").allTextContents(), { timeout: 15_000 }).toEqual(["Who are you?", "Summarise the zanzibar merger"]);
    expect(page.url()).toMatch(/\/agents\/ada\?session=/);

    // Back and forward between two chats of one agent: the URL leads and the chat follows it (the
    // chat used to put the URL back on the chat it showed, undoing the browser's Back).
    const zanzibarUrl = page.url();
    await items.filter({ hasText: "Lisbon" }).locator(".session-open").click();
    await expect.poll(() => page.getByTestId("message-user").locator(".plain-text").allTextContents(), { timeout: 15_000 }).toEqual(["Who are you?", "Plan the Lisbon offsite"]);
    const lisbonUrl = page.url();
    expect(lisbonUrl).not.toBe(zanzibarUrl);
    await page.goBack();
    await expect.poll(() => page.getByTestId("message-user").locator(".plain-text").allTextContents(), { timeout: 15_000 }).toEqual(["Who are you?", "Summarise the zanzibar merger"]);
    expect(page.url()).toBe(zanzibarUrl);
    await page.goForward();
    await expect.poll(() => page.getByTestId("message-user").locator(".plain-text").allTextContents(), { timeout: 15_000 }).toEqual(["Who are you?", "Plan the Lisbon offsite"]);
    expect(page.url()).toBe(lisbonUrl);

    await page.goto(`${system.platformUrl}/search?q=${encodeURIComponent("nothing here at all")}`);
    await page.getByTestId("search-empty").waitFor({ timeout: 15_000 });
    expect(await page.getByTestId("search-empty").textContent()).toContain("No chats match");
  }, 240_000);
});
