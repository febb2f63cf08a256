/**
 * The Integrations screen's model keys in the browser: an owner adds the organisation's Anthropic
 * key (write-only: after saving only its hint is shown, also after a reload), sees a private base
 * URL refused, and removes the key. Real platform and gateway (`npm start`), Debian chromium.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningSystem } from "./system";
import { chromiumPath, nav, signedUpPage, startWebSystem } from "./web-support";

const KEY = "sk-ant-browser-secret-4321";

let system: RunningSystem;
let browser: Browser;
let stop: () => Promise<void>;
let context: BrowserContext | undefined;

const provider = (page: Page, name: "anthropic" | "openai-compatible") => page.locator(`[data-testid=model-key][data-provider=${name}]`);

describe.runIf(chromiumPath)("model keys on the Integrations screen", () => {
  beforeAll(async () => {
    ({ system, browser, stop } = await startWebSystem());
  }, 180_000);
  afterAll(async () => {
    await context?.close();
    await stop?.();
  });

  it("adds a key that is never shown again, refuses a private base URL, and removes the key", async () => {
    const signedUp = await signedUpPage(browser, system, "olivia@acme.example");
    context = signedUp.context;
    const { page } = signedUp;
    await nav(page, "Integrations");
    const section = page.getByTestId("model-keys-section");
    await section.getByRole("heading", { name: "Model keys" }).waitFor({ timeout: 15_000 });
    await expect.poll(() => section.getByTestId("model-keys-policy").textContent()).toContain("use the installation's key");

    const anthropic = provider(page, "anthropic");
    await anthropic.getByRole("button", { name: "Add key" }).click();
    await anthropic.getByLabel("API key").fill(KEY);
    await anthropic.getByRole("button", { name: "Save key" }).click();
    await expect.poll(() => anthropic.getByTestId("model-key-hint").textContent(), { timeout: 15_000 }).toBe("…4321");
    expect(await anthropic.getByLabel("API key").count()).toBe(0);
    expect(await page.content()).not.toContain(KEY);

    await page.reload();
    await expect.poll(() => provider(page, "anthropic").getByTestId("model-key-hint").textContent(), { timeout: 15_000 }).toBe("…4321");
    expect(await page.content()).not.toContain(KEY);

    // The installation allows public addresses only: a model server on loopback is refused, and says so.
    const compatible = provider(page, "openai-compatible");
    await compatible.getByRole("button", { name: "Add key" }).click();
    await compatible.getByLabel("API key").fill("sk-local-ollama-0000");
    await compatible.getByLabel("Base URL").fill("http://127.0.0.1:11434/v1");
    await compatible.getByRole("button", { name: "Save key" }).click();
    await expect.poll(() => compatible.getByTestId("error").textContent(), { timeout: 15_000 }).toContain("outbound_blocked");
    await expect.poll(() => compatible.getByTestId("model-key-status").textContent()).toContain("No key of your own");

    await provider(page, "anthropic").getByRole("button", { name: "Remove key" }).click();
    await expect.poll(() => provider(page, "anthropic").getByTestId("model-key-status").textContent(), { timeout: 15_000 }).toContain("No key of your own");
  });
});
