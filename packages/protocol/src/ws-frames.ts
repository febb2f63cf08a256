import { z } from "zod";
import { AttachmentUploads } from "./attachments";
import { ErrorDetail } from "./errors";
import { RunEvent } from "./events";
import { RunActor, SessionKey, Slug } from "./gateway-api";
import { RunIntegrations } from "./integrations";
import { RunTrigger } from "./tenant-events";

/**
 * The gateway's WebSocket protocol (`/v1/ws`). The token is sent in a header at connect
 * (`Authorization: Bearer` or `x-clawdbot-token`, never in the URL), and the tenant is bound then
 * (X-Tenant-ID or `?tenant=`); after that the client sends request frames and receives response frames (paired by
 * `id`) and event frames (a per-connection, strictly increasing `seq`; the payload is the RunEvent
 * with its own per-run `seq`).
 *
 * A client holding the gateway token may instead ask for a shared connection (decision 049): it
 * offers the WebSocket subprotocol WS_SHARED_TENANTS_PROTOCOL, binds no tenant, names the tenant in
 * each request frame (`tenant`), and each event frame names the tenant of its run. The platform
 * carries every tenant's run streams over a few such connections per gateway.
 */
export const WS_PATH = "/v1/ws";
/** The subprotocol of a shared connection: no tenant bound at connect, one named per frame. */
export const WS_SHARED_TENANTS_PROTOCOL = "workforce.tenants.v1";

export const WsRequestFrame = z.object({
  type: z.literal("req"),
  id: z.string().min(1).max(200),
  method: z.string().min(1),
  params: z.unknown().optional(),
  /** The tenant the request is for: required on a shared connection, else (if given) the bound one. */
  tenant: z.string().max(100).optional(),
  /** The X-Request-Id of the HTTP request this frame serves (the platform's), so the gateway's log lines name it. */
  requestId: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,128}$/)
    .optional(),
  /** The W3C traceparent of the platform's span this frame serves, when tracing; the gateway's span is its child. */
  traceparent: z
    .string()
    .regex(/^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/)
    .optional(),
});
export type WsRequestFrame = z.infer<typeof WsRequestFrame>;

export const WsResponseFrame = z.discriminatedUnion("ok", [
  z.object({ type: z.literal("res"), id: z.string(), ok: z.literal(true), payload: z.unknown() }),
  z.object({ type: z.literal("res"), id: z.string(), ok: z.literal(false), error: ErrorDetail }),
]);
export type WsResponseFrame = z.infer<typeof WsResponseFrame>;

export const WsEventFrame = z.object({
  type: z.literal("event"),
  /** The RunEvent's `type` (`run-start`, `text-delta`, …). */
  event: z.string(),
  payload: RunEvent,
  /** Per connection, strictly increasing from 1. */
  seq: z.number().int().positive(),
  /** The run's tenant, on a shared connection. */
  tenant: z.string().optional(),
});
export type WsEventFrame = z.infer<typeof WsEventFrame>;

/** Anything the gateway sends on the socket. */
export const WsServerFrame = z.union([WsResponseFrame, WsEventFrame]);
export type WsServerFrame = z.infer<typeof WsServerFrame>;

/** Params of each request method. Payloads: see docs/gateway-api.md. */
export const WS_METHOD_PARAMS = {
  ping: z.unknown().optional(),
  "agents.list": z.object({}).optional(),
  "sessions.list": z.object({ agent: Slug }),
  "sessions.history": z.object({ agent: Slug, sessionKey: SessionKey }),
  /** Aborts the active run and everything queued in one session; answers `{ aborted: RunInfo[] }`. */
  "sessions.abort": z.object({ agent: Slug, sessionKey: SessionKey }),
  /** Answers the RunInfo, then streams the run's events from seq 1. */
  "chat.send": z.object({
    agent: Slug,
    message: z.string().min(1).max(100_000),
    sessionKey: SessionKey.optional(),
    idempotencyKey: z.string().min(1).max(200).optional(),
    /** Edit and resend, or regenerate (SendMessageInput.replacesRunId, decision 041). */
    replacesRunId: z.string().min(1).max(200).optional(),
    /** Text and image files for the model (decision 042). */
    attachments: AttachmentUploads.optional(),
    /** On whose behalf the platform sends, for metering. */
    actor: RunActor.optional(),
    /** What the run may use beyond the workspace tools (the platform's grants and secrets; see integrations.ts). */
    integrations: RunIntegrations.optional(),
    /** A run the platform fired on its own (see GatewayRunInput). */
    trigger: RunTrigger.optional(),
    /** A heartbeat run (GatewayRunInput.heartbeat). */
    heartbeat: z.boolean().optional(),
  }),
  /** A decision on the call a session waits on (like the HTTP route); answers the RunInfo of the run it starts, then streams its events from seq 1. */
  "approvals.decide": z.object({
    agent: Slug,
    sessionKey: SessionKey,
    approvalId: z.string().min(1).max(200),
    decision: z.enum(["approve", "deny"]),
    reason: z.string().trim().max(2_000).optional(),
    timedOut: z.boolean().optional(),
    actor: RunActor.optional(),
    integrations: RunIntegrations.optional(),
    trigger: RunTrigger.optional(),
  }),
  /** Answers the RunInfo, then streams the run's events with seq > after. */
  "runs.subscribe": z.object({ runId: z.string().min(1), after: z.number().int().nonnegative().optional() }),
  "runs.abort": z.object({ runId: z.string().min(1) }),
} as const;
export type WsMethod = keyof typeof WS_METHOD_PARAMS;
export const WS_METHODS = Object.keys(WS_METHOD_PARAMS) as WsMethod[];
