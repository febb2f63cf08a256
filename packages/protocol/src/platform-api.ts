import { z } from "zod";
import { ErrorDetail } from "./errors";
import { SessionHistory, SessionSummary } from "./gateway-api";

/**
 * Whose a session is, as the platform records it (its `/api` answers, not the gateway's): the
 * user or API key that started it, or `none` for sessions started elsewhere (the gateway's hooks,
 * `/v1/chat/completions`) or before ownership was recorded. `email` is null for a user who is no
 * longer in the organisation; `name` is an API key's.
 */
export const SessionOwner = z.object({
  type: z.enum(["user", "api-key", "none"]),
  id: z.string().nullable(),
  email: z.string().nullable().optional(),
  name: z.string().nullable().optional(),
});
export type SessionOwner = z.infer<typeof SessionOwner>;

/** A session as the platform lists it: the gateway's summary plus its owner. */
export const OwnedSessionSummary = SessionSummary.extend({ owner: SessionOwner });
export type OwnedSessionSummary = z.infer<typeof OwnedSessionSummary>;

/** A session's history as the platform answers it: the gateway's plus its owner. */
export const OwnedSessionHistory = SessionHistory.extend({ owner: SessionOwner });
export type OwnedSessionHistory = z.infer<typeof OwnedSessionHistory>;

/** `GET /api/agents/:slug/sessions?owner=`: the caller's own sessions (default), or everyone's (owners and admins). */
export const SessionOwnerFilter = z.enum(["mine", "all"], { message: "must be 'mine' or 'all'" });
export type SessionOwnerFilter = z.infer<typeof SessionOwnerFilter>;

/**
 * `disk` in `GET /api/usage`: the bytes the organisation's files take on the gateway and its quota
 * (`quotaBytes` null: none). When the gateway could not be asked, both are null and `error` says why;
 * the rest of the usage answer still comes.
 */
export const UsageDisk = z.object({
  usedBytes: z.number().int().min(0).nullable(),
  quotaBytes: z.number().int().min(0).nullable(),
  error: ErrorDetail.optional(),
});
export type UsageDisk = z.infer<typeof UsageDisk>;
