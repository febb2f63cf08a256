/**
 * A tour of every screen of the web app (e2e/web-screens.ts) in Chromium at 1280 px and at
 * 390 px, against the whole system (`npm start`, the fake Anthropic upstream) with representative
 * data (web-screens-seed.ts). Each screen must pass axe-core without serious or critical
 * violations, and on a phone the page must not scroll sideways. With WRITE_SCREENSHOTS=1 each is
 * photographed into docs/screenshots/{screen}-{desktop|mobile}.png, the README's pictures.
 */
import { startFakeUpstream, type FakeUpstream } from "@workforce/fake-upstream";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWebhookReceiver, type WebhookReceiver } from "../platform/src/test-support/webhook-receiver";
import { checkAccessibility } from "./axe";
import { repoRoot, type RunningSystem } from "./system";
import { OWNER, SCREENS } from "./web-screens";
import { seed, type Seeded } from "./web-screens-seed";
import { chromiumPath, DESKTOP, PHONE, startWebSystem, submitAuth } from "./web-support";

const FAKE_API_KEY = "sk-ant-e2e-screens";
const WRITE_SCREENSHOTS = process.env.WRITE_SCREENSHOTS === "1";
const screenshots = path.join(repoRoot, "docs", "screenshots");
const VIEWPORTS = [
  { name: "desktop", size: DESKTOP },
  { name: "mobile", size: PHONE },
] as const;

let system: RunningSystem;
let browser: Browser;
let stop: () => Promise<void>;
let fake: FakeUpstream;
let receiver: WebhookReceiver;
let seeded: Seeded;
let signedIn: BrowserContext;
let signedOut: BrowserContext;

describe.runIf(chromiumPath)("every screen of the web app, on a desktop and a phone", () => {
  beforeAll(async () => {
    fake = await startFakeUpstream({ apiKey: FAKE_API_KEY });
    receiver = await startWebhookReceiver();
    ({ system, browser, stop } = await startWebSystem({
      ANTHROPIC_API_KEY: FAKE_API_KEY,
      ANTHROPIC_BASE_URL: fake.url,
      WORKFORCE_OUTBOUND_ALLOW_HOSTS: receiver.host,
    }));
  }, 180_000);
  afterAll(async () => {
    await stop?.();
    await fake?.close();
    await receiver?.close();
  });

  // A test of its own, before the tour: the mail helpers it uses wait with expect.poll.
  it("signs up in the browser and seeds an organisation with something on every screen", async () => {
    // axe-core is injected as a script, which the app's Content-Security-Policy would refuse.
    const owner = await browser.newContext({ viewport: DESKTOP, bypassCSP: true });
    const page = await owner.newPage();
    await page.goto(system.platformUrl);
    await submitAuth(page, OWNER, "Sign up");
    await page.getByRole("heading", { name: "Agents" }).waitFor({ timeout: 30_000 });
    seeded = await seed(system, browser, fake, receiver.origin);
    signedIn = await browser.newContext({ viewport: DESKTOP, bypassCSP: true, storageState: await owner.storageState() });
    await owner.close();
    signedOut = await browser.newContext({ viewport: DESKTOP, bypassCSP: true });
    if (WRITE_SCREENSHOTS) await mkdir(screenshots, { recursive: true });
  }, 300_000);

  for (const viewport of VIEWPORTS) {
    for (const screen of SCREENS) {
      it(`${screen.name} at ${viewport.size.width} px`, async () => {
        expect(seeded, "seeding failed").toBeDefined();
        const page = await (screen.signedOut ? signedOut : signedIn).newPage();
        try {
          await page.setViewportSize(viewport.size);
          await page.goto(system.platformUrl + screen.path(seeded));
          await screen.act?.(page);
          await screen.ready(page).first().waitFor({ timeout: 30_000 });
          await settled(page);
          if (WRITE_SCREENSHOTS) await page.screenshot({ path: path.join(screenshots, `${screen.name}-${viewport.name}.png`), fullPage: true });

          const report = await checkAccessibility(page);
          if (report.other.length > 0) process.stdout.write(`${screen.name} at ${viewport.name}, minor accessibility findings:\n${report.other.join("\n")}\n`);
          expect(report.failing.length, `${screen.name} at ${viewport.name}: serious or critical accessibility violations:\n${report.failing.join("\n")}`).toBe(0);
          if (viewport.name === "mobile") {
            const wider = await overflowing(page);
            expect(wider.length, `${screen.name} at ${viewport.size.width} px scrolls sideways; too wide:\n${wider.join("\n")}`).toBe(0);
          }
        } finally {
          await page.close();
        }
      }, 90_000);
    }
  }
});

/** Waits until nothing on the page says it is still loading. */
async function settled(page: Page): Promise<void> {
  await page.waitForFunction(
    `![...document.querySelectorAll('[role=status], [aria-busy=true]')].some((element) =>
      element.getAttribute('aria-busy') === 'true' || /^Loading/.test((element.textContent || '').trim()))`,
    undefined,
    { timeout: 30_000 },
  );
  await page.evaluate("document.fonts.ready.then(() => undefined)");
}

/**
 * What sticks out sideways: the page (the document, or the main area, which scrolls by itself) is
 * wider than the window. Names the outermost elements that stick out (not those inside a box that
 * scrolls or clips sideways on its own); empty when everything fits.
 */
function overflowing(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(`(() => {
    const pages = [document.documentElement, ...document.querySelectorAll('main')];
    const wide = pages.filter((element) => element.scrollWidth > element.clientWidth + 1);
    if (wide.length === 0) return [];
    const right = Math.min(window.innerWidth, ...wide.map((element) => element === document.documentElement ? window.innerWidth : element.getBoundingClientRect().right));
    const clipped = (element) => {
      // An absolutely placed element escapes a clipping parent that is not its containing block: counted.
      if (['absolute', 'fixed'].includes(getComputedStyle(element).position)) return false;
      for (let parent = element.parentElement; parent && !pages.includes(parent); parent = parent.parentElement) {
        if (getComputedStyle(parent).overflowX !== 'visible') return true;
      }
      return false;
    };
    const name = (element) => element.tagName.toLowerCase() + (element.id ? '#' + element.id : '') + [...element.classList].map((c) => '.' + c).join('') + (element.dataset.testid ? '[data-testid=' + element.dataset.testid + ']' : '');
    const sticking = [...document.body.querySelectorAll('*')].filter((element) => element.getBoundingClientRect().right > right + 1 && !clipped(element));
    const outermost = sticking.filter((element) => !sticking.includes(element.parentElement));
    const list = outermost.slice(0, 8).map((element) => name(element) + ' reaches ' + Math.round(element.getBoundingClientRect().right) + ' px');
    return list.length > 0 ? list : wide.map((element) => name(element) + ' is ' + element.scrollWidth + ' px wide');
  })()`);
}
