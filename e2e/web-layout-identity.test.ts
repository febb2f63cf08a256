/**
 * Issue 16, layout and identity, in Chromium against the real system (the fake Anthropic upstream
 * as its provider): long names truncate with a tooltip; the agent editor is a dialog that opens
 * clean; the model picker offers what the gateway reports (no retired models) and a model that is
 * not available is refused on save; nothing is clipped at 390 px and the wheel scrolls the page
 * over the gutters; the logo and favicon are SVG, avatars fall back to initials, each screen names
 * itself in the tab, and the theme toggle (system/light/dark) is remembered by the browser.
 */
import { execFileSync } from "node:child_process";
import { startFakeUpstream, type FakeUpstream } from "@workforce/fake-upstream";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningSystem } from "./system";
import { apiAs, chromiumPath, DESKTOP, nav, PHONE, signedUpPage, startWebSystem } from "./web-support";

const MODEL_KEY = "layout-model-key";
const LONG_NAME = "Supercalifragilisticexpialidocious".repeat(3).slice(0, 80);
let upstream: FakeUpstream;
let system: RunningSystem;
let browser: Browser;
let stop: () => Promise<void>;

if (!chromiumPath) process.stderr.write("web-layout-identity.test.ts: no Chromium found; browser tests are not run\n");

const card = (page: Page, name: string) => page.getByTestId("agent-card").filter({ has: page.locator(".agent-name", { hasText: name }) });
/** What sticks out to the right of the window or of the page's scroll box (empty when nothing is clipped), named for the failure message. */
const overflowing = (page: Page) =>
  page.evaluate<string[]>(`(() => {
    const scroller = document.querySelector("main.page") ?? document.querySelector("main");
    const limit = Math.min(window.innerWidth, scroller ? scroller.getBoundingClientRect().right : window.innerWidth) + 1;
    const name = (element) => element.tagName.toLowerCase() + (element.className && typeof element.className === "string" ? "." + element.className.trim().split(/\\s+/).join(".") : "");
    const out = [...document.querySelectorAll("body *")].filter((element) => {
      const box = element.getBoundingClientRect();
      if (box.width === 0 || box.right <= limit) return false;
      // Inside a box that scrolls sideways on purpose (a wide table): reachable, not clipped.
      for (let parent = element.parentElement; parent && parent !== scroller; parent = parent.parentElement) {
        const style = getComputedStyle(parent);
        if ((style.overflowX === "auto" || style.overflowX === "scroll") && parent.getBoundingClientRect().right <= limit) return false;
        if (style.overflowX === "hidden" && parent.getBoundingClientRect().right <= limit) return false;
      }
      return true;
    });
    const pageWide = document.documentElement.scrollWidth > window.innerWidth ? ["the document is wider than the window"] : [];
    return pageWide.concat(out.slice(0, 5).map(name));
  })()`);
const noHorizontalOverflow = async (page: Page) => (await overflowing(page)).length === 0;

async function createAgent(page: Page, name: string, role = "Research Analyst"): Promise<void> {
  const form = page.locator("form.agent-form").first();
  if ((await form.count()) === 0) await page.getByRole("button", { name: "New agent" }).click();
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Role", { exact: true }).fill(role);
  await page.getByRole("button", { name: "Create agent" }).click();
  await card(page, name.slice(0, 20)).waitFor({ timeout: 15_000 });
}

describe.runIf(chromiumPath)("layout and identity (issue 16)", () => {
  beforeAll(async () => {
    upstream = await startFakeUpstream({ apiKey: MODEL_KEY, models: ["claude-fake-1", "claude-fake-2"] });
    ({ system, browser, stop } = await startWebSystem({ ANTHROPIC_API_KEY: MODEL_KEY, ANTHROPIC_BASE_URL: upstream.url, WORKFORCE_DEFAULT_MODEL: "claude-fake-1" }));
  }, 120_000);
  afterAll(async () => {
    await stop?.();
    await upstream?.close();
  });

  it("truncates a long name with the whole name as its tooltip, and edits in a dialog that opens clean", async () => {
    const { context, page } = await signedUpPage(browser, system, "long-names@layout.example");
    await createAgent(page, LONG_NAME);
    await createAgent(page, "Bo", "Builder");
    const name = card(page, LONG_NAME.slice(0, 20)).locator(".agent-name");
    expect(await name.getAttribute("title")).toBe(LONG_NAME);
    // Cut with an ellipsis inside its card, not spilling over the neighbour.
    expect(await name.evaluate((element) => element.scrollWidth > element.clientWidth)).toBe(true);
    expect(await page.evaluate<string>(`getComputedStyle(document.querySelector("[data-testid=agent-card] .agent-name")).textOverflow`)).toBe("ellipsis");
    expect(await card(page, LONG_NAME.slice(0, 20)).evaluate((element) => element.scrollWidth <= element.clientWidth)).toBe(true);

    const sibling = card(page, "Bo");
    const siblingBefore = await sibling.boundingBox();
    await card(page, "Bo").getByRole("button", { name: "Edit" }).click();
    const dialog = page.getByRole("dialog", { name: "Edit Bo" });
    await dialog.waitFor();
    // The editor floats over the grid: no card changes size under it.
    expect((await card(page, LONG_NAME.slice(0, 20)).boundingBox())?.height).toBeGreaterThan(0);
    expect(await sibling.boundingBox()).toEqual(siblingBefore);

    // A refusal shows in the dialog; closing and reopening starts clean, with the saved values. (Not
    // gateway_unavailable: that one marks the gateway down, and its recovery remounts the screen.)
    await dialog.getByLabel("Role", { exact: true }).fill("");
    await dialog.getByLabel("Name").fill("Bo the second");
    await page.route("**/api/agents/bo", (route) =>
      route.request().method() === "PATCH" ? route.fulfill({ status: 409, contentType: "application/json", body: JSON.stringify({ error: { code: "conflict", message: "The agent changed meanwhile" } }) }) : route.fallback(),
    );
    await dialog.getByLabel("Role", { exact: true }).fill("Builder of things");
    await dialog.getByRole("button", { name: "Save" }).click();
    await dialog.getByTestId("error").waitFor();
    await page.unroute("**/api/agents/bo");
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    await card(page, "Bo").getByRole("button", { name: "Edit" }).click();
    await dialog.waitFor();
    expect(await dialog.getByTestId("error").count()).toBe(0);
    expect(await dialog.getByLabel("Name").inputValue()).toBe("Bo");
    expect(await dialog.getByLabel("Role", { exact: true }).inputValue()).toBe("Builder");
    await dialog.getByRole("button", { name: "Close" }).click();
    await dialog.waitFor({ state: "detached" });
    await context.close();
  });

  it("offers the models the gateway reports, none retired, and refuses a model that is not available", async () => {
    const { context, page } = await signedUpPage(browser, system, "models@layout.example");
    const picker = page.locator("form.agent-form").getByLabel("Model", { exact: true });
    await expect.poll(() => picker.isEnabled()).toBe(true);
    const offered = await picker.locator("option").allTextContents();
    expect(offered).toEqual(["Default: claude-fake-1", "Offline model (built in, no AI provider) (offline)", "claude-fake-1", "claude-fake-2"]);
    expect(offered.join(" ")).not.toMatch(/claude-sonnet-4-5|claude-opus-4-1|claude-haiku-4-5/);
    await createAgent(page, "Ada");

    // A model that was listed a moment ago and is gone by the time of saving (the list is stale).
    await page.route("**/api/models", async (route) => {
      const response = await route.fetch();
      const catalogue = (await response.json()) as { models: { id: string; provider: string; label: string }[] };
      catalogue.models.push({ id: "claude-nonexistent-9", provider: "anthropic", label: "claude-nonexistent-9" });
      await route.fulfill({ response, json: catalogue });
    });
    await card(page, "Ada").getByRole("button", { name: "Edit" }).click();
    const dialog = page.getByRole("dialog", { name: "Edit Ada" });
    const model = dialog.getByLabel("Model", { exact: true });
    await expect.poll(() => model.isEnabled()).toBe(true);
    await model.selectOption("claude-nonexistent-9");
    await dialog.getByRole("button", { name: "Save" }).click();
    await dialog.getByText("This model is not available on this installation").waitFor();
    expect(await model.getAttribute("aria-invalid")).toBe("true");
    await page.unroute("**/api/models");
    await dialog.getByRole("button", { name: "Close" }).click();
    // Nothing was saved: the card names no model, and the API says the same.
    expect(await card(page, "Ada").locator(".agent-meta").textContent()).not.toContain("Model:");
    const client = await apiAs(system, "models@layout.example");
    const refused = await client.request("PATCH", "/api/agents/ada", { model: "claude-nonexistent-9" });
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("model_unavailable");

    // A listed model saves and shows on the card.
    await card(page, "Ada").getByRole("button", { name: "Edit" }).click();
    await expect.poll(() => model.isEnabled()).toBe(true);
    await model.selectOption("claude-fake-2");
    await dialog.getByRole("button", { name: "Save" }).click();
    await expect.poll(async () => (await card(page, "Ada").locator(".agent-meta").textContent()) ?? "").toContain("claude-fake-2");
    await context.close();
  });

  it("clips nothing at 390 px, and the wheel scrolls the page over the side gutters", async () => {
    const { context, page } = await signedUpPage(browser, system, "phone@layout.example");
    const client = await apiAs(system, "phone@layout.example");
    const slugs: string[] = [];
    for (let index = 1; index <= 10; index += 1) {
      const created = await client.request("POST", "/api/agents", { name: `Agent number ${index} ${LONG_NAME.slice(0, 60)}`, role: "A role long enough to take a line of its own on a phone" });
      expect(created.status).toBe(201);
      slugs.push(((await created.json()) as { agent: { slug: string } }).agent.slug);
    }
    await page.reload();
    await page.getByTestId("agent-card").first().waitFor();
    // The pointer over the left gutter, far outside the content column: the page still scrolls.
    const scroller = page.locator("main.page");
    expect(await scroller.evaluate((element) => element.scrollHeight > element.clientHeight)).toBe(true);
    await page.mouse.move(20, 400);
    await page.mouse.wheel(0, 600);
    await expect.poll(() => scroller.evaluate((element) => element.scrollTop)).toBeGreaterThan(0);

    // A chat, so the usage screen has its tables (the one that was clipped at 390 px).
    const sent = await client.request("POST", `/api/agents/${slugs[0]}/messages`, { message: "Hello" });
    expect(sent.status).toBe(200);
    await sent.text();
    await expect
      .poll(async () => ((await (await client.request("GET", "/api/usage?days=14")).json()) as { totals: { runs: number } }).totals.runs, { timeout: 30_000 })
      .toBe(1);

    await page.setViewportSize(PHONE);
    expect(await noHorizontalOverflow(page)).toBe(true);
    for (const screen of ["Team", "API keys", "Usage", "Integrations", "Webhooks"] as const) {
      await nav(page, screen);
      await page.getByRole("heading", { level: 1 }).first().waitFor();
      if (screen === "Usage") await page.locator("table.data-table").first().waitFor();
      await expect.poll(() => overflowing(page), { message: screen }).toEqual([]);
    }
    await page.goto(`${system.platformUrl}/account`);
    await page.getByRole("heading", { level: 1 }).first().waitFor();
    expect(await noHorizontalOverflow(page)).toBe(true);
    await page.goto(`${system.platformUrl}/agents/${slugs[0]}`);
    await page.getByTestId("composer").waitFor();
    expect(await noHorizontalOverflow(page)).toBe(true);
    await page.setViewportSize(DESKTOP);
    await context.close();
  });

  it("draws its own logo, favicon and avatars, names each screen in the tab, and remembers the theme", async () => {
    const { context, page } = await signedUpPage(browser, system, "identity@layout.example");
    await page.emulateMedia({ colorScheme: "light" });
    expect(await page.title()).toBe("Agents · Workforce");
    const brand = page.locator(".topbar .brand");
    expect(await brand.locator("svg.logo").count()).toBe(1);
    expect(await brand.textContent()).toBe(" Workforce");
    const favicon = await page.locator('link[rel="icon"]').getAttribute("href");
    expect(favicon).toBe("/favicon.svg");
    const icon = await context.request.get(`${system.platformUrl}${favicon}`);
    expect([icon.status(), icon.headers()["content-type"]]).toEqual([200, "image/svg+xml"]);
    expect(await icon.text()).toContain("<svg");

    await createAgent(page, "Ada Lovelace");
    const avatar = card(page, "Ada Lovelace").getByTestId("avatar");
    // This machine has no emoji font, so the robot emoji would be an empty box: initials instead.
    const emojiFonts = execFileSync("fc-list", [":charset=1f916"], { encoding: "utf8" }).trim();
    if (emojiFonts === "") expect([await avatar.getAttribute("data-avatar"), await avatar.textContent()]).toEqual(["initials", "AL"]);
    else expect(await avatar.getAttribute("data-avatar")).toBe("emoji");

    await card(page, "Ada Lovelace").getByRole("button", { name: "Chat" }).click();
    await expect.poll(() => page.title()).toBe("Ada Lovelace — Chat · Workforce");
    await nav(page, "Team");
    await expect.poll(() => page.title()).toBe("Team · Workforce");
    await nav(page, "Usage");
    await expect.poll(() => page.title()).toBe("Usage · Workforce");

    const background = () => page.evaluate<string>("getComputedStyle(document.body).backgroundColor");
    const toggle = page.getByRole("button", { name: /^Theme: / });
    expect(await toggle.getAttribute("aria-label")).toBe("Theme: System. Switch to Light");
    expect(await background()).toBe("rgb(247, 247, 248)");
    await page.emulateMedia({ colorScheme: "dark" });
    expect(await background()).toBe("rgb(19, 19, 22)");
    await toggle.click();
    expect(await toggle.getAttribute("aria-label")).toBe("Theme: Light. Switch to Dark");
    expect(await background()).toBe("rgb(247, 247, 248)");
    await toggle.click();
    await page.emulateMedia({ colorScheme: "light" });
    expect(await background()).toBe("rgb(19, 19, 22)");
    // Remembered by this browser across reloads…
    await page.reload();
    await page.getByRole("heading", { name: "Usage" }).waitFor();
    expect(await page.getByRole("button", { name: /^Theme: / }).getAttribute("aria-label")).toBe("Theme: Dark. Switch to System");
    expect(await background()).toBe("rgb(19, 19, 22)");
    // …and back to following the system.
    await page.getByRole("button", { name: /^Theme: / }).click();
    expect(await background()).toBe("rgb(247, 247, 248)");
    await page.reload();
    await page.getByRole("heading", { name: "Usage" }).waitFor();
    expect(await page.evaluate<string>(`document.documentElement.dataset.theme ?? "system"`)).toBe("system");
    await context.close();
  });
});
