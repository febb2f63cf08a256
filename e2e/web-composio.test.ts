/**
 * Composio in the browser (issue 14): an owner connects GitHub from the Integrations screen
 * through Composio's hosted sign-in (a local fake of Composio's API and page), comes back to the
 * screen with the app active, and disconnects it. Real platform and gateway processes, Debian chromium.
 */
import { startFakeComposio, type FakeComposio } from "@workforce/fake-upstream";
import type { BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningSystem } from "./system";
import { chromiumPath, nav, signedUpPage, startWebSystem } from "./web-support";

const KEY = "e2e-composio-operator-key-000000";
let composio: FakeComposio;
let system: RunningSystem;
let stop: (() => Promise<void>) | undefined;
let browser: Awaited<ReturnType<typeof startWebSystem>>["browser"];
const contexts: BrowserContext[] = [];

describe.runIf(chromiumPath)("Composio apps in the web app", () => {
  beforeAll(async () => {
    composio = await startFakeComposio({ apiKey: KEY });
    ({ system, browser, stop } = await startWebSystem({ COMPOSIO_API_KEY: KEY, COMPOSIO_BASE_URL: composio.url }));
  }, 120_000);
  afterAll(async () => {
    for (const context of contexts) await context.close();
    await stop?.();
    await composio?.close();
  });

  it("connects GitHub through the hosted sign-in, shows it active, and disconnects it", async () => {
    const { context, page } = await signedUpPage(browser, system, "composio-owner@example.com");
    contexts.push(context);
    await nav(page, "Integrations");
    const section = page.getByTestId("composio-section");
    await section.getByRole("heading", { name: "Apps (Composio)" }).waitFor();
    await expect.poll(() => section.getByText("No apps connected yet.").isVisible()).toBe(true);

    // Connect: to Composio's page and back to the Integrations screen.
    await section.getByRole("button", { name: "Connect GitHub" }).click();
    await page.waitForURL(/\/integrations\?composio=connected&toolkit=github$/, { timeout: 15_000 });
    await page.getByTestId("composio-return").waitFor();
    const row = page.getByTestId("composio-connection").filter({ hasText: "github" });
    await expect.poll(() => row.getByTestId("composio-status").textContent()).toBe("active");
    const accounts = [...composio.accounts.values()];
    expect(accounts).toHaveLength(1);
    expect(accounts[0]).toMatchObject({ toolkit: "github", status: "ACTIVE" });
    // Composio's user is the organisation: its id, not the person's.
    expect(accounts[0]?.userId).toMatch(/^[0-9a-f-]{36}$/);

    // Disconnect: gone here and at Composio.
    await row.getByRole("button", { name: "Disconnect github" }).click();
    await page.getByRole("group", { name: "Disconnect github" }).getByRole("button", { name: "Disconnect" }).click();
    await expect.poll(() => section.getByText("No apps connected yet.").isVisible()).toBe(true);
    expect(composio.accounts.size).toBe(0);
    expect(await page.content()).not.toContain(KEY);
  }, 60_000);
});
