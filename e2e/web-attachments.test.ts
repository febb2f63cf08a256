/**
 * Chat attachments in the browser (decision 042), through the whole system (`npm start`: the real
 * gateway and platform, the fake Anthropic upstream behind the real SDK): a file too large or of
 * the wrong type is refused in the form, in words, before anything is sent; an image picked with
 * the Attach button, a text file dropped on the composer and an image pasted into it travel with
 * the message; the model receives them as image and text blocks; the chat shows the thumbnails
 * and file chips, also after a reload, and the text file downloads.
 */
import { readFile } from "node:fs/promises";
import { startFakeUpstream, type FakeUpstream } from "@workforce/fake-upstream";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningSystem } from "./system";
import { isTitleRequest } from "./title-request";
import { chromiumPath, signedUpPage, startWebSystem } from "./web-support";

const FAKE_API_KEY = "sk-ant-e2e-attachments";
const PNG_BASE64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
const NOTES = "Quarterly plan: ship attachments.";
let system: RunningSystem;
let browser: Browser;
let stop: () => Promise<void>;
let fake: FakeUpstream;

interface AnthropicBody {
  messages: { role: string; content: string | { type: string; text?: string; source?: { type: string; media_type: string; data: string } }[] }[];
}

/** Drops (or pastes) a file the page builds itself, as a user dragging it from the desktop would. (A script string: this project's tests are not compiled with the DOM's types.) */
async function dropFile(page: Page, target: string, event: "drop" | "paste", file: { name: string; type: string; base64: string }) {
  await page.evaluate(`(() => {
    const file = ${JSON.stringify(file)};
    const bytes = Uint8Array.from(atob(file.base64), (char) => char.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], file.name, { type: file.type }));
    const init = { bubbles: true, cancelable: true };
    const dispatched = ${JSON.stringify(event)} === "drop" ? new DragEvent("drop", { ...init, dataTransfer: transfer }) : new ClipboardEvent("paste", { ...init, clipboardData: transfer });
    document.querySelector(${JSON.stringify(`[data-testid=${target}]`)}).dispatchEvent(dispatched);
  })()`);
}

describe.runIf(chromiumPath)("chat attachments in the web app", () => {
  beforeAll(async () => {
    fake = await startFakeUpstream({ apiKey: FAKE_API_KEY });
    ({ system, browser, stop } = await startWebSystem({ ANTHROPIC_API_KEY: FAKE_API_KEY, ANTHROPIC_BASE_URL: fake.url }));
  }, 180_000);
  afterAll(async () => {
    await stop?.();
    await fake?.close();
  });

  it("checks files in the form, sends an image and text files the model receives as blocks, and shows them again after a reload", async () => {
    const { context, page } = await signedUpPage(browser, system, "attacher@example.com");
    await page.getByLabel("Name").fill("Ada");
    await page.getByLabel("Role", { exact: true }).fill("Research Analyst");
    await page.getByRole("button", { name: "Create agent" }).click();
    const card = page.locator("[data-testid=agent-card][data-agent=ada]");
    await card.getByRole("button", { name: "Chat" }).click();
    await page.getByTestId("composer").waitFor({ timeout: 15_000 });

    // Refused in the form, before sending: too large, and a type the model cannot read.
    const input = page.getByTestId("attach-input");
    await input.setInputFiles([
      { name: "huge.txt", mimeType: "text/plain", buffer: Buffer.alloc(1024 * 1024 + 1, 97) },
      { name: "setup.exe", mimeType: "application/x-msdownload", buffer: Buffer.from("MZ") },
    ]);
    const problems = page.getByTestId("attachment-problems");
    await problems.waitFor({ timeout: 10_000 });
    expect(await problems.textContent()).toContain('"huge.txt" is larger than 1 MB, the most a file can be.');
    expect(await problems.textContent()).toContain('"setup.exe" can\'t be attached');
    expect(await page.getByTestId("pending-attachment").count()).toBe(0);

    // The Attach button's picker, a drop on the composer and a paste into the message box.
    await input.setInputFiles({ name: "dot.png", mimeType: "image/png", buffer: Buffer.from(PNG_BASE64, "base64") });
    await dropFile(page, "composer-form", "drop", { name: "plan.md", type: "", base64: Buffer.from(NOTES).toString("base64") });
    await dropFile(page, "composer", "paste", { name: "image.png", type: "image/png", base64: PNG_BASE64 });
    await expect.poll(() => page.getByTestId("pending-attachment").count(), { timeout: 10_000 }).toBe(3);
    expect(await problems.count()).toBe(0);
    // One can change one's mind.
    await page.getByRole("button", { name: "Remove image.png" }).click();
    expect(await page.getByTestId("pending-attachment").count()).toBe(2);

    fake.enqueue({ kind: "text", text: "A single dot, and your plan." });
    await page.getByTestId("composer").fill("What did I send?");
    await page.getByRole("button", { name: "Send", exact: true }).click();
    await page.locator("[data-testid=message-assistant][data-status=ok]").filter({ hasText: "A single dot, and your plan." }).waitFor({ timeout: 30_000 });
    expect(await page.getByTestId("pending-attachment").count()).toBe(0);

    // The model got the image as an image block and the file's text as a text block.
    // The chat's own request, not the title request the index job may have sent since.
    const body = fake.requests.filter((request) => !isTitleRequest(request)).at(-1)!.body as AnthropicBody;
    const content = body.messages.at(-1)!.content;
    expect(Array.isArray(content) && content.find((block) => block.type === "image")?.source).toEqual({ type: "base64", media_type: "image/png", data: PNG_BASE64 });
    expect(Array.isArray(content) && content.some((block) => block.type === "text" && block.text?.includes(NOTES))).toBe(true);

    // After a reload the chat fetches the stored files: the thumbnail and the file chip are there.
    await page.reload();
    const sent = page.getByTestId("message-user").filter({ hasText: "What did I send?" });
    await sent.getByTestId("attachment-image").waitFor({ timeout: 15_000 });
    expect(await sent.getByTestId("attachment-image").getAttribute("alt")).toBe("dot.png");
    expect(await sent.getByTestId("attachment-image").evaluate((image) => {
      // The e2e tests compile without DOM types: the two fields of HTMLImageElement read here.
      const loaded = image as unknown as { complete: boolean; naturalWidth: number };
      return loaded.complete && loaded.naturalWidth;
    })).toBe(1);
    const chip = sent.getByTestId("attachment-file");
    expect(await chip.textContent()).toContain("plan.md");

    const downloading = page.waitForEvent("download");
    await chip.getByRole("button", { name: "Download plan.md" }).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toBe("plan.md");
    expect(await readFile(await download.path(), "utf8")).toBe(NOTES);
    await context.close();
  });
});
