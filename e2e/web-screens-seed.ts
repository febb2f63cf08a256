/**
 * Representative data for the screen tour (web-screens.test.ts), made the way a user or an
 * integrator would: through the web app for signing up and joining, through the API for the rest.
 * An owner (the installation's first account, so its operator too) of "Acme Research" with two
 * agents, a finished chat, a chat paused on a tool call waiting for approval, a member and a
 * pending invitation, an API key, a schedule that has run once, and a webhook with a delivery.
 */
import type { FakeUpstream } from "@workforce/fake-upstream";
import type { Browser } from "playwright-core";
import { expect } from "vitest";
import type { TestClient } from "./client";
import { readRunEvents } from "./client";
import type { RunningSystem } from "./system";
import { MEMBER, OWNER } from "./web-screens";
import { apiAs, confirmAddress, DESKTOP, invite, organisationsOf, signUpFromInvitation } from "./web-support";

const INVITEE = "lee@example.com";

export interface Seeded {
  /** The owner's API client. */
  owner: TestClient;
  tenantId: string;
  /** Ada's finished chat. */
  chatSession: string;
  /** Grace's chat, paused on a `write_file` call waiting for approval. */
  approvalSession: string;
  /** The pending invitation's link, for the signed-out invitation screen. */
  inviteLink: string;
}

const REPLY = [
  "Here is this week's summary:",
  "",
  "- **Tickets opened:** 42 (down 8% on last week)",
  "- **Median first response:** 1 h 12 min",
  "- **Top topic:** password resets",
  "",
  "To list the open ones yourself:",
  "",
  "```sql",
  "select id, subject from tickets where status = 'open' order by opened_at;",
  "```",
].join("\n");

/** Seeds everything with the owner already signed up (in the browser); answers what the screens need. */
export async function seed(system: RunningSystem, browser: Browser, fake: FakeUpstream, receiverOrigin: string): Promise<Seeded> {
  const owner = await apiAs(system, OWNER);
  // Confirmed, the screens show no "Confirm your email address" banner.
  const me = await owner.json<{ user: { emailConfirmed: boolean } }>("GET", "/api/me");
  if (!me.body.user.emailConfirmed) await confirmAddress(system, OWNER);
  const [tenant] = await organisationsOf(owner);
  const tenantId = tenant!.id;
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await owner.request(method, path, body, { "x-tenant-id": tenantId });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  /** Sends a message and reads its run to the end; answers the session's key. */
  const send = async (agent: string, message: string): Promise<string> => {
    const response = await owner.request("POST", `/api/agents/${agent}/messages`, { message }, { "x-tenant-id": tenantId });
    if (response.status !== 200) throw new Error(`sending to ${agent}: ${response.status} ${await response.text()}`);
    const events = await readRunEvents(response);
    const start = events.find((event) => event.type === "run-start");
    if (start?.type !== "run-start") throw new Error(`no run-start for ${agent}`);
    return start.sessionKey;
  };

  await call("PATCH", "/api/tenant", { name: "Acme Research" });
  await call("POST", "/api/agents", { name: "Ada", role: "Research Analyst", persona: "Precise, curious and kind." });
  await call("POST", "/api/agents", { name: "Grace", role: "Support Lead", persona: "Calm and thorough." });

  fake.enqueue({ kind: "text", text: REPLY });
  const chatSession = await send("ada", "Summarise this week's support tickets");

  await call("PUT", "/api/agents/grace/tool-modes", { modes: { write_file: "ask" } });
  fake.enqueue({ kind: "tool_use", name: "write_file", input: { path: "notes/follow-ups.md", content: "Call back Jordan about the refund\nCheck the SSO ticket" } });
  const approvalSession = await send("grace", "Write down today's follow-ups.");

  // A teammate who joined through the invitation link, and an invitation still pending.
  const memberLink = await invite(owner, system, tenantId, MEMBER);
  const context = await browser.newContext({ viewport: DESKTOP });
  await signUpFromInvitation(await context.newPage(), memberLink);
  await context.close();
  const inviteLink = await invite(owner, system, tenantId, INVITEE);

  await call("POST", "/api/keys", { name: "CI bot" });

  const schedule = await call<{ schedule: { id: string } }>("POST", "/api/agents/ada/schedules", {
    name: "Morning briefing",
    kind: "cron",
    cron: "0 9 * * 1-5",
    timezone: "Europe/London",
    message: "Summarise yesterday's support tickets.",
    sessionKey: "morning-briefing",
  });
  await call("POST", `/api/agents/ada/schedules/${schedule.schedule.id}/run`);

  const webhook = await call<{ endpoint: { id: string } }>("POST", "/api/webhooks", { url: `${receiverOrigin}/hooks`, description: "Ops alerts" });
  await call("POST", `/api/webhooks/${webhook.endpoint.id}/test`);

  // What the screens show once settled: the run finished, the delivery made, the usage counted.
  await expect
    .poll(async () => (await call<{ firings: { status: string }[] }>("GET", `/api/agents/ada/schedules/${schedule.schedule.id}/firings`)).firings[0]?.status, {
      timeout: 60_000,
    })
    .toBe("completed");
  await expect
    .poll(async () => (await call<{ deliveries: { status: string }[] }>("GET", `/api/webhooks/${webhook.endpoint.id}/deliveries`)).deliveries[0]?.status, { timeout: 60_000 })
    .toBe("succeeded");
  await expect.poll(async () => (await call<{ byAgent: { agent: string }[] }>("GET", "/api/usage")).byAgent.length, { timeout: 60_000 }).toBeGreaterThanOrEqual(2);
  return { owner, tenantId, chatSession, approvalSession, inviteLink };
}
