/**
 * The ways the bench sends a chat message — straight to the fake upstream (baseline), through a
 * trivial hop, to the gateway, and to the platform (on PGlite, or on the Postgres server) — and
 * the set-up each needs (tenant, agent, user).
 */
import { randomUUID } from "node:crypto";
import { FAKE_API_KEY } from "./services";
import { jsonRequest, stream, type StreamResult } from "./sse-client";

/**
 * "hono-hop": the floor, a trivial Hono handler forwarding to the fake upstream (lib/hono-hop.ts);
 * "platform-postgres": a platform on the Postgres server (DATABASE_URL) in front of the same gateway.
 */
export type TargetName = "direct" | "hono-hop" | "gateway" | "platform" | "platform-postgres";

export interface Target {
  name: TargetName;
  /** Sends `message` (in `sessionKey` where the target has sessions) and reads the streamed reply. */
  send(message: string, sessionKey: string, options?: { timeoutMs?: number; onOpen?: (runId: string | undefined) => void; onToken?: (count: number) => void }): Promise<StreamResult>;
}

/** Anthropic's streaming API at `fakeUrl`: the fake upstream itself, or the Hono hop in front of it. */
export function directTarget(fakeUrl: string, name: "direct" | "hono-hop" = "direct"): Target {
  return {
    name,
    send: (message, _sessionKey, options) =>
      stream({
        url: `${fakeUrl}/v1/messages`,
        headers: { "x-api-key": FAKE_API_KEY, "anthropic-version": "2023-06-01" },
        body: { model: "claude-fake-1", max_tokens: 4096, stream: true, messages: [{ role: "user", content: message }] },
        tokenEvent: "content_block_delta",
        ...options,
      }),
  };
}

export interface GatewayTenant {
  tenantId: string;
  slug: string;
  headers: Record<string, string>;
}

/** Creates a tenant (a fresh uuid) with one agent on the gateway. */
export async function createGatewayAgent(gatewayUrl: string, hookToken: string, name = "Bench Agent"): Promise<GatewayTenant> {
  const tenantId = randomUUID();
  const headers = { authorization: `Bearer ${hookToken}`, "x-tenant-id": tenantId };
  const created = await jsonRequest<{ agent: { slug: string } }>(`${gatewayUrl}/v1/agents`, "POST", headers, {
    name,
    role: "Benchmark subject",
    persona: "Answers briefly.",
  });
  if (created.status !== 201) throw new Error(`gateway: creating an agent failed: ${created.status} ${JSON.stringify(created.body)}`);
  return { tenantId, slug: created.body.agent.slug, headers };
}

export function gatewayTarget(gatewayUrl: string, tenant: GatewayTenant): Target {
  return {
    name: "gateway",
    send: (message, sessionKey, options) =>
      stream({
        url: `${gatewayUrl}/v1/agents/${tenant.slug}/runs`,
        headers: tenant.headers,
        body: { message, sessionKey },
        tokenEvent: "text-delta",
        ...options,
      }),
  };
}

export interface PlatformUser {
  accessToken: string;
  tenantId: string;
  slug: string;
  headers: Record<string, string>;
}

/**
 * Signs a user up on the platform (which creates their organisation) and creates an agent.
 * `clientHeaders` go with every request and stay in the returned headers (e.g. X-Forwarded-For,
 * so many users behind a trusted proxy are not one network to the sign-up limit).
 */
export async function createPlatformUser(platformUrl: string, email = `bench-${randomUUID()}@example.com`, clientHeaders: Record<string, string> = {}): Promise<PlatformUser> {
  const signup = await jsonRequest<{ access_token: string }>(`${platformUrl}/auth/v1/signup`, "POST", clientHeaders, { email, password: "benchmark password 1" });
  if (signup.status !== 200) throw new Error(`platform: sign-up failed: ${signup.status} ${JSON.stringify(signup.body)}`);
  const headers = { ...clientHeaders, authorization: `Bearer ${signup.body.access_token}` };
  const me = await jsonRequest<{ tenants: { id: string }[] }>(`${platformUrl}/api/me`, "GET", headers);
  const tenantId = me.body.tenants?.[0]?.id;
  if (!tenantId) throw new Error(`platform: /api/me named no tenant: ${JSON.stringify(me.body)}`);
  const created = await jsonRequest<{ agent: { slug: string } }>(`${platformUrl}/api/agents`, "POST", headers, {
    name: "Bench Agent",
    role: "Benchmark subject",
    persona: "Answers briefly.",
  });
  if (created.status !== 201) throw new Error(`platform: creating an agent failed: ${created.status} ${JSON.stringify(created.body)}`);
  return { accessToken: signup.body.access_token, tenantId, slug: created.body.agent.slug, headers: { ...headers, "x-tenant-id": tenantId } };
}

/** Chat through a platform; `name` tells the platform on the Postgres server from the embedded one. */
export function platformTarget(platformUrl: string, user: PlatformUser, name: "platform" | "platform-postgres" = "platform"): Target {
  return {
    name,
    send: (message, sessionKey, options) =>
      stream({
        url: `${platformUrl}/api/agents/${user.slug}/messages`,
        headers: user.headers,
        body: { message, sessionKey },
        tokenEvent: "text-delta",
        ...options,
      }),
  };
}

/** A run counts as completed when it streamed and ended ok (direct and the hop: the HTTP stream ended cleanly). */
export function completed(result: StreamResult, target: TargetName): boolean {
  if (result.error || result.status !== 200) return false;
  return target === "direct" || target === "hono-hop" ? result.tokens > 0 : result.end?.status === "ok";
}

/** Why a run did not complete, for error tallies. */
export function failureOf(result: StreamResult): string {
  if (result.errorCode) return result.errorCode;
  if (result.error) return result.error.slice(0, 80);
  if (result.end) return result.end.code ?? result.end.status;
  return "no run-end";
}
