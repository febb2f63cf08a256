import { z } from "zod";
import { SessionSummary } from "./gateway-api";
import { RunIntegrations } from "./integrations";
import { SessionOwner, SessionOwnerFilter } from "./platform-api";

/* ---------- generated session titles (issue 16, decision 043) ---------- */

/**
 * `POST /v1/agents/:slug/sessions/:key/title` (gateway, platform only): gives the session a short
 * model-written title after its first exchange. `useModel: false` (the organisation is over budget)
 * writes the fallback without a model call. The call is metered as the actor's.
 */
export const SessionTitleRequest = z.object({
  useModel: z.boolean().default(true),
  integrations: RunIntegrations.optional(),
});
export type SessionTitleRequest = z.input<typeof SessionTitleRequest>;

/**
 * What the title step did: `generated` (the model's), `fallback` (the model is offline, failed, or
 * was not to be used: a title cut from the first message), `kept` (the user named it, a title was
 * generated before, or there is no exchange yet).
 */
export const SessionTitleResult = z.object({
  session: SessionSummary,
  outcome: z.enum(["generated", "fallback", "kept"]),
});
export type SessionTitleResult = z.infer<typeof SessionTitleResult>;

/* ---------- search over chats ---------- */

/** Longest search query (characters). */
export const SEARCH_QUERY_MAX = 200;

/** `GET /api/search?q=&owner=&limit=`. */
export const SearchQuery = z.object({
  q: z.string().trim().min(1, "must not be empty").max(SEARCH_QUERY_MAX, `must be at most ${SEARCH_QUERY_MAX} characters`),
  owner: SessionOwnerFilter.default("mine"),
  limit: z.coerce.number().int().min(1).max(50).default(20),
});
export type SearchQuery = z.infer<typeof SearchQuery>;

/** Marks a matching word in `snippet`: the text between START and STOP matched (never in chat text). */
export const SEARCH_MARK_START = "\u0002";
export const SEARCH_MARK_STOP = "\u0003";

export const SearchResult = z.object({
  agent: z.object({ slug: z.string(), name: z.string() }),
  sessionKey: z.string(),
  title: z.string(),
  /** A few words around the best match, matches between SEARCH_MARK_START and SEARCH_MARK_STOP. */
  snippet: z.string(),
  updatedAt: z.string(),
  owner: SessionOwner,
});
export type SearchResult = z.infer<typeof SearchResult>;

export const SearchResponse = z.object({ results: z.array(SearchResult) });
export type SearchResponse = z.infer<typeof SearchResponse>;
