/**
 * The chat as people expect it, in Chromium against the real platform and gateway and a model
 * behind the fake Anthropic API (it echoes what it is sent): GFM replies (a table, a task list,
 * strikethrough, safe links) with lazily highlighted code and a copy button; copying, regenerating
 * and editing messages, where the model and a reload both see the edited conversation; Esc
 * stopping a reply; `?` listing the shortcuts.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { startFakeUpstream, type FakeUpstream } from "@workforce/fake-upstream";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot, type RunningSystem } from "./system";
import { chromiumPath, DESKTOP, fitsWidth, PHONE, signedUpPage, startWebSystem } from "./web-support";
import { isTitleRequest } from "./title-request";

const artifacts = path.join(repoRoot, "e2e", "artifacts");

const FAKE_KEY = "chat-render-key";
let fake: FakeUpstream;
let system: RunningSystem;
let browser: Browser;
let stop: () => Promise<void>;
let context: BrowserContext | undefined;

const REPLY_MARKDOWN = [
  "Plans:",
  "",
  "| Plan | Tokens |",
  "| --- | ---: |",
  "| Free | 1,000 |",
  "",
  "- [x] shipped",
  "- [ ] tested",
  "",
  "~~old~~ see [the docs](https://example.com/docs) or [this](javascript:alert(1))",
  "",
  "```ts",
  "const answer = 42;",
  "```",
].join("\n");

/**
 * The user texts of the chat's model requests the fake received, oldest request first. The chat's
 * title request (sent after the first exchange by the search index job, whenever it runs) is not
 * one of them.
 */
function userTextsSent(): string[][] {
  return fake.requests
    .filter((request) => request.path === "/v1/messages" && !isTitleRequest(request))
    .map((request) => {
      const body = request.body as { messages?: { role: string; content: string | { type: string; text?: string }[] }[] };
      return (body.messages ?? [])
        .filter((message) => message.role === "user")
        .map((message) => (typeof message.content === "string" ? message.content : message.content.map((block) => block.text ?? "").join("")));
    });
}

const replies = (page: Page) => page.getByTestId("message-assistant");
const lastReply = (page: Page) => replies(page).last();
const userMessages = (page: Page) => page.getByTestId("message-user");

async function send(page: Page, text: string): Promise<void> {
  const before = await replies(page).count();
  await page.getByTestId("composer").fill(text);
  await page.getByRole("button", { name: "Send", exact: true }).click();
  await expect.poll(() => replies(page).count(), { timeout: 20_000 }).toBe(before + 1);
}

/** The last reply has finished well (not merely some earlier one). */
const finished = (page: Page) => expect.poll(() => lastReply(page).getAttribute("data-status"), { timeout: 30_000 }).toBe("ok");
const clipboard = (page: Page) => page.evaluate<string>("navigator.clipboard.readText()");

describe.runIf(chromiumPath)("the chat's replies and message actions", () => {
  beforeAll(async () => {
    fake = await startFakeUpstream({ apiKey: FAKE_KEY, tokenDelayMs: 5 });
    ({ system, browser, stop } = await startWebSystem({ ANTHROPIC_API_KEY: FAKE_KEY, ANTHROPIC_BASE_URL: fake.url }));
  }, 180_000);
  afterAll(async () => {
    await context?.close();
    await stop?.();
    await fake?.close();
  });

  it("renders GFM with highlighted code, copies, regenerates and edits, stops on Esc and lists shortcuts under ?", async () => {
    const signedUp = await signedUpPage(browser, system, "rene@render.example");
    context = signedUp.context;
    const { page } = signedUp;
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: system.platformUrl });
    const highlighterRequests: string[] = [];
    page.on("request", (request) => {
      if (/\/assets\/highlight-[\w-]+\.js$/.test(request.url())) highlighterRequests.push(request.url());
    });

    await page.getByLabel("Name").fill("Ada");
    await page.getByLabel("Role", { exact: true }).fill("Research Analyst");
    await page.getByRole("button", { name: "Create agent" }).click();
    await page.getByTestId("agent-card").filter({ hasText: "Ada" }).getByRole("button", { name: "Chat" }).click();

    // A plain reply first: no code yet, so the highlighter has not been fetched.
    await send(page, "Hello there");
    await finished(page);
    await expect.poll(() => lastReply(page).textContent()).toContain("Echo: Hello there");
    expect(highlighterRequests).toEqual([]);

    // GFM: a table, a task list, strikethrough, only safe links, and a highlighted code block.
    await send(page, REPLY_MARKDOWN);
    await finished(page);
    const reply = lastReply(page);
    await reply.locator("table th", { hasText: "Plan" }).waitFor();
    expect(await reply.locator("table td").allTextContents()).toEqual(["Free", "1,000"]);
    const boxes = reply.locator("input[type=checkbox]");
    expect([await boxes.nth(0).isChecked(), await boxes.nth(1).isChecked(), await boxes.count()]).toEqual([true, false, 2]);
    expect(await reply.locator("del").textContent()).toBe("old");
    expect(await reply.getByRole("link", { name: "the docs" }).getAttribute("href")).toBe("https://example.com/docs");
    expect(await reply.locator("a[href^=javascript]").count()).toBe(0);
    const code = reply.getByTestId("code-block");
    await code.locator(".hljs-keyword", { hasText: "const" }).waitFor({ timeout: 15_000 });
    expect(highlighterRequests).toHaveLength(1);
    await code.getByRole("button", { name: "Copy code" }).click();
    await expect.poll(() => clipboard(page)).toBe("const answer = 42;");
    await code.getByRole("button", { name: "Copied" }).waitFor();

    await mkdir(artifacts, { recursive: true });
    await page.screenshot({ path: path.join(artifacts, "chat-render.png") });
    await page.setViewportSize(PHONE);
    expect(await fitsWidth(page), "no horizontal overflow at 390 px").toBe(true);
    await page.screenshot({ path: path.join(artifacts, "chat-render-phone.png") });
    await page.setViewportSize(DESKTOP);

    // Copy a whole reply: its markdown as written.
    await reply.getByRole("group", { name: "Reply actions" }).getByRole("button", { name: "Copy" }).click();
    await expect.poll(() => clipboard(page)).toBe(`Echo: ${REPLY_MARKDOWN}`);

    // Regenerate: a new reply in place of the last one; the model reads the message once, not twice.
    const oldRun = await reply.getAttribute("data-run-id");
    await reply.getByRole("button", { name: "Regenerate" }).click();
    await expect.poll(() => lastReply(page).getAttribute("data-run-id"), { timeout: 20_000 }).not.toBe(oldRun);
    await finished(page);
    expect(await replies(page).count()).toBe(2);
    expect(await userMessages(page).count()).toBe(2);
    expect(userTextsSent().at(-1)).toEqual(["Hello there", REPLY_MARKDOWN]);

    // Edit the first message: what followed it is replaced by the answer to the new text.
    await userMessages(page).first().getByRole("button", { name: "Edit" }).click();
    const editor = page.getByTestId("edit-message").getByLabel("Edit message");
    await editor.fill("What is your name?");
    await page.getByRole("button", { name: "Save and send" }).click();
    await expect.poll(() => lastReply(page).textContent(), { timeout: 20_000 }).toContain("Echo: What is your name?");
    await finished(page);
    expect(await userMessages(page).allTextContents()).toEqual([expect.stringContaining("What is your name?")]);
    expect(await replies(page).count()).toBe(1);
    expect(userTextsSent().at(-1)).toEqual(["What is your name?"]);

    // The session the server keeps says the same after a reload.
    await page.reload();
    await expect.poll(() => lastReply(page).textContent(), { timeout: 20_000 }).toContain("Echo: What is your name?");
    expect(await userMessages(page).count()).toBe(1);
    expect(await replies(page).count()).toBe(1);

    // Esc stops a reply that is being written.
    await send(page, "[[fault:stall:2:60000]] Tell me a long story");
    await expect.poll(() => lastReply(page).textContent(), { timeout: 20_000 }).toContain("Echo:");
    expect(await lastReply(page).getAttribute("data-status")).toBe("streaming");
    await page.keyboard.press("Escape");
    await expect.poll(() => lastReply(page).getAttribute("data-status"), { timeout: 20_000 }).toBe("aborted");
    await lastReply(page).getByText("Stopped").waitFor();

    // `?` outside the message box lists the shortcuts; inside it, it is just a character.
    await page.getByTestId("composer").fill("");
    await page.getByTestId("composer").press("?");
    expect(await page.getByTestId("composer").inputValue()).toBe("?");
    await page.getByTestId("composer").fill("");
    await page.evaluate("document.activeElement?.blur()");
    await page.keyboard.press("?");
    const dialog = page.getByRole("dialog", { name: "Keyboard shortcuts" });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain("Stop the reply being written");
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
  });
});
