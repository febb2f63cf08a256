import type { ErrorDetail} from "@workforce/protocol";
import { SessionKey, Slug } from "@workforce/protocol";
import { z } from "zod";

/**
 * WebSocket frames (`/v1/ws`). Requests and responses pair by `id`; events carry a per-connection,
 * strictly increasing `seq`, and their payload is the RunEvent with its own run `seq`.
 */
export const RequestFrame = z.object({
  type: z.literal("req"),
  id: z.string().min(1).max(200),
  method: z.string().min(1),
  params: z.unknown().optional(),
});
export type RequestFrame = z.infer<typeof RequestFrame>;

export type ResponseFrame = { type: "res"; id: string; ok: true; payload: unknown } | { type: "res"; id: string; ok: false; error: ErrorDetail };
export interface EventFrame {
  type: "event";
  event: string;
  payload: unknown;
  seq: number;
}

export const WS_METHODS = {
  "agents.list": z.object({}).optional(),
  "sessions.list": z.object({ agent: Slug }),
  "sessions.history": z.object({ agent: Slug, sessionKey: SessionKey }),
  "chat.send": z.object({
    agent: Slug,
    message: z.string().min(1).max(100_000),
    sessionKey: SessionKey.optional(),
    idempotencyKey: z.string().min(1).max(200).optional(),
  }),
  "runs.subscribe": z.object({ runId: z.string().min(1), after: z.number().int().nonnegative().optional() }),
  "runs.abort": z.object({ runId: z.string().min(1) }),
  ping: z.unknown().optional(),
} as const;
export type WsMethod = keyof typeof WS_METHODS;
