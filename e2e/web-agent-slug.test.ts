/**
 * The agent's slug (its id in URLs, the API and folders) in the web app: previewed from the name,
 * typed when wanted, checked with a human message, a taken one refused on the field, shown on
 * every card and read-only when editing; long names and slugs stay inside their cards.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningSystem } from "./system";
import { PHONE, chromiumPath, signedUpPage, startWebSystem } from "./web-support";

let system: RunningSystem;
let browser: Browser;
let stop: () => Promise<void>;

/** The page has no horizontal scrollbar: nothing is wider than the screen. */
const fitsWidth = (page: Page) => page.evaluate<boolean>("document.documentElement.scrollWidth <= window.innerWidth");
const card = (page: Page, slug: string) => page.locator(`[data-testid=agent-card][data-agent="${slug}"]`);

async function fillAgent(page: Page, name: string, slug?: string): Promise<void> {
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Role", { exact: true }).fill("Research Analyst");
  if (slug !== undefined) await page.getByLabel("Slug").fill(slug);
}

describe.runIf(chromiumPath)("agent slugs in the web app", () => {
  beforeAll(async () => {
    ({ system, browser, stop } = await startWebSystem());
  }, 120_000);
  afterAll(async () => {
    await stop?.();
  });

  it("previews the slug, refuses a malformed or taken one on the field, and creates one typed by hand", async () => {
    const { context, page } = await signedUpPage(browser, system, "slugs@example.com");
    await fillAgent(page, "Ada Lovelace");
    expect(await page.getByLabel("Slug").getAttribute("placeholder")).toBe("ada-lovelace");
    await page.getByLabel("Name").fill("Ada");
    expect(await page.getByLabel("Slug").getAttribute("placeholder")).toBe("ada");
    await page.getByRole("button", { name: "Create agent" }).click();
    await card(page, "ada").waitFor();
    expect(await card(page, "ada").textContent()).toContain("Slug: ada");

    // A second "Ada" with no slug typed is the gateway's to name ("ada-2" once the gateway suffixes
    // duplicates; before that it is refused like the explicit case below). Typed explicitly, the
    // first one's slug is refused on the field, in words.
    await page.getByRole("button", { name: "New agent" }).click();
    await fillAgent(page, "Ada", "ada");
    await page.getByRole("button", { name: "Create agent" }).click();
    const slug = page.getByLabel("Slug");
    await expect.poll(() => slug.getAttribute("aria-invalid")).toBe("true");
    expect(await page.getByRole("alert").filter({ hasText: "already exists" }).textContent()).toBe(
      "An agent with the slug “ada” already exists in this organisation. Choose another slug.",
    );
    // The description read with the field includes the problem.
    const describedBy = (await slug.getAttribute("aria-describedby")) ?? "";
    expect(describedBy.split(" ")).toHaveLength(2);

    // Not a slug at all: explained before anything is sent.
    await slug.fill("Ada Two!");
    await page.getByRole("button", { name: "Create agent" }).click();
    await page.getByText("A slug is 1 to 64 lowercase letters (a-z), digits and hyphens").waitFor();
    expect(await page.getByTestId("agent-card").count()).toBe(1);

    await slug.fill("ada-two");
    await expect.poll(() => slug.getAttribute("aria-invalid")).toBe(null);
    await page.getByRole("button", { name: "Create agent" }).click();
    await card(page, "ada-two").waitFor();
    expect(await card(page, "ada-two").textContent()).toContain("Slug: ada-two");
    expect(await card(page, "ada").textContent()).toContain("Ada");
    expect(await page.getByTestId("agent-card").count()).toBe(2);

    // The typed slug is the agent's address.
    await card(page, "ada-two").getByRole("button", { name: "Chat" }).click();
    await page.waitForURL(/\/agents\/ada-two$/);
    await context.close();
  });

  it("shows the slug read-only when editing, with why", async () => {
    const { context, page } = await signedUpPage(browser, system, "edit-slug@example.com");
    await fillAgent(page, "Grace", "grace-h");
    await page.getByRole("button", { name: "Create agent" }).click();
    await card(page, "grace-h").getByRole("button", { name: "Edit" }).click();
    const slug = card(page, "grace-h").getByLabel("Slug");
    expect(await slug.inputValue()).toBe("grace-h");
    expect(await slug.getAttribute("readonly")).not.toBeNull();
    expect(await card(page, "grace-h").textContent()).toContain("so it stays as it is");
    await card(page, "grace-h").getByLabel("Role", { exact: true }).fill("Compiler pioneer");
    await card(page, "grace-h").getByRole("button", { name: "Save" }).click();
    await expect.poll(async () => (await card(page, "grace-h").textContent()) ?? "").toContain("Compiler pioneer");
    await context.close();
  });

  it("keeps a long unbroken name and slug inside the card, on a phone too", async () => {
    const { context, page } = await signedUpPage(browser, system, "long-names@example.com");
    const name = "Supercalifragilisticexpialidocious".repeat(2).slice(0, 80);
    const longSlug = "a".repeat(64);
    await fillAgent(page, name, longSlug);
    await page.getByRole("button", { name: "Create agent" }).click();
    await card(page, longSlug).waitFor();
    const fits = () => card(page, longSlug).evaluate((element) => element.scrollWidth <= element.clientWidth);
    expect(await fits()).toBe(true);
    await page.setViewportSize(PHONE);
    await expect.poll(fits).toBe(true);
    expect(await fitsWidth(page)).toBe(true);
    await card(page, longSlug).getByRole("button", { name: "Edit" }).click();
    expect(await fitsWidth(page)).toBe(true);
    await context.close();
  });
});
