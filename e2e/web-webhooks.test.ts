/**
 * Outbound webhooks from the web app, through the whole system (`npm start`): an admin adds an
 * endpoint (a real HTTP receiver in this process, the one private address the operator allows),
 * copies its signing secret shown once, sends a test event, sees it delivered in the log, and
 * redelivers it. The receiver verifies every request with the `standardwebhooks` package.
 */
import type { Browser } from "playwright-core";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWebhookReceiver, type WebhookReceiver } from "../platform/src/test-support/webhook-receiver";
import type { RunningSystem } from "./system";
import { chromiumPath, nav, signedUpPage, startWebSystem } from "./web-support";

let system: RunningSystem;
let browser: Browser;
let stop: () => Promise<void>;
let receiver: WebhookReceiver;

describe.runIf(chromiumPath)("webhooks in the web app", () => {
  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    ({ system, browser, stop } = await startWebSystem({ WORKFORCE_OUTBOUND_ALLOW_HOSTS: receiver.host }));
  }, 180_000);
  afterAll(async () => {
    await stop?.();
    await receiver?.close();
  });

  it("adds an endpoint, shows its secret once, and logs a signed test delivery and its redelivery", async () => {
    const { context, page } = await signedUpPage(browser, system, "hooks-admin@example.com");
    await nav(page, "Webhooks");
    await page.getByRole("heading", { name: "Webhooks", level: 1 }).waitFor();
    await page.getByRole("button", { name: "Add endpoint" }).click();
    await page.getByLabel("Endpoint URL").fill(`${receiver.origin}/e2e`);
    await page.getByLabel("Description").fill("E2E receiver");
    await page.getByRole("button", { name: "Add endpoint" }).click();

    const reveal = page.getByRole("region", { name: "Signing secret" });
    const secret = await reveal.getByLabel(/^Signing secret of/).inputValue();
    expect(secret).toMatch(/^whsec_/);
    const row = page.locator(`[data-testid=webhook-row][data-url="${receiver.origin}/e2e"]`);
    expect(await row.textContent()).toContain(`…${secret.slice(-4)}`);
    await reveal.getByRole("button", { name: "Done" }).click();
    expect(await page.content()).not.toContain(secret);

    await row.getByRole("button", { name: "Send a test event to E2E receiver" }).click();
    const delivered = row.locator("[data-testid=webhook-delivery][data-event-type='webhook.test'][data-status=succeeded]");
    await delivered.waitFor({ timeout: 30_000 });
    expect(await delivered.getByTestId("webhook-delivery-code").textContent()).toBe("200");
    expect(await delivered.getByTestId("webhook-delivery-attempts").textContent()).toBe("1");
    expect(receiver.received).toHaveLength(1);
    const [first] = receiver.received;
    expect(new Webhook(secret).verify(first!.body, first!.headers as Record<string, string>)).toMatchObject({ type: "webhook.test", data: { endpointId: expect.any(String) } });

    // A redelivery is the same event (same webhook-id), signed again.
    await delivered.getByRole("button", { name: /^Redeliver webhook\.test / }).click();
    await row.locator("[data-testid=webhook-delivery][data-status=succeeded]").filter({ has: page.locator("[data-testid=webhook-delivery-attempts]", { hasText: "2" }) }).waitFor({ timeout: 30_000 });
    expect(receiver.received).toHaveLength(2);
    expect(receiver.received[1]!.headers["webhook-id"]).toBe(first!.headers["webhook-id"]);
    expect(new Webhook(secret).verify(receiver.received[1]!.body, receiver.received[1]!.headers as Record<string, string>)).toMatchObject({ type: "webhook.test" });

    // Turned off, it says so and cannot be sent to.
    await row.getByRole("button", { name: "Disable E2E receiver" }).click();
    await row.locator("[data-testid=webhook-status][data-enabled=false]").waitFor();
    expect(await row.getByRole("button", { name: "Send a test event to E2E receiver" }).isDisabled()).toBe(true);
    await context.close();
  }, 120_000);
});
