import { SEARCH_MARK_START, SEARCH_MARK_STOP, type SearchQuery, type SearchResult } from "@workforce/protocol";
import { sql } from "kysely";
import type { Actor } from "../auth/operation-route";
import type { SessionOwners } from "../chat/session-owners";
import type { TenantTransaction } from "../db/schema";

/** Words of a query beyond this many are ignored. */
const MAX_TERMS = 16;

/**
 * The query as a tsquery: its words (letters and digits; everything else separates them), each
 * matched as a word or the start of one, all of them required. Built from words only, so nothing a
 * user types is read as tsquery syntax. Undefined when the query has no word.
 */
export function prefixQuery(text: string): string | undefined {
  const words = (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).slice(0, MAX_TERMS);
  return words.length === 0 ? undefined : words.map((word) => `${word}:*`).join(" & ");
}

const HEADLINE_OPTIONS = `StartSel=${SEARCH_MARK_START}, StopSel=${SEARCH_MARK_STOP}, MaxWords=24, MinWords=10, ShortWord=2, MaxFragments=2, FragmentDelimiter=" … "`;

/**
 * Chats of the tenant matching the query, best first, with a snippet around the matches (issue
 * 16, decision 043). Runs in the tenant's row-level-security transaction; `mine` keeps the
 * sessions the caller started (the sessions list's rule: a member never finds another's chat, nor
 * one nobody owns); `all` (owners and admins) every session.
 */
export async function searchSessions(
  trx: TenantTransaction,
  tenantId: string,
  actor: Actor,
  query: SearchQuery,
  ownerView: SessionOwners["view"],
): Promise<SearchResult[]> {
  const terms = prefixQuery(query.q);
  if (!terms || (query.owner === "mine" && !actor.userId && !actor.apiKeyId)) return [];
  const tsquery = sql`to_tsquery('simple', ${terms})`;
  let select = trx
    .selectFrom("session_search as s")
    .innerJoin("agents as a", (join) => join.onRef("a.tenant_id", "=", "s.tenant_id").onRef("a.slug", "=", "s.agent_slug"))
    .leftJoin("session_owners as o", (join) =>
      join.onRef("o.tenant_id", "=", "s.tenant_id").onRef("o.agent_slug", "=", "s.agent_slug").onRef("o.session_key", "=", "s.session_key"),
    )
    .leftJoin("users as u", "u.id", "o.user_id")
    .leftJoin("api_keys as k", "k.id", "o.api_key_id")
    .select([
      "s.agent_slug as slug",
      "a.name as agentName",
      "s.session_key as sessionKey",
      "s.title as title",
      "s.session_updated_at as updatedAt",
      "o.user_id as userId",
      "o.api_key_id as apiKeyId",
      "u.email as email",
      "k.name as keyName",
      sql<string>`ts_headline('simple', s.body, ${tsquery}, ${HEADLINE_OPTIONS})`.as("snippet"),
    ])
    .where("s.tenant_id", "=", tenantId)
    .where(sql<boolean>`s.document @@ ${tsquery}`);
  if (query.owner === "mine") select = actor.userId ? select.where("o.user_id", "=", actor.userId) : select.where("o.api_key_id", "=", actor.apiKeyId ?? "");
  const rows = await select
    .orderBy(sql`ts_rank(s.document, ${tsquery})`, "desc")
    .orderBy("s.session_updated_at", "desc")
    .orderBy("s.session_key")
    .limit(query.limit)
    .execute();
  return rows.map((row) => ({
    agent: { slug: row.slug, name: row.agentName },
    sessionKey: row.sessionKey,
    title: row.title,
    snippet: row.snippet,
    updatedAt: new Date(row.updatedAt).toISOString(),
    owner: ownerView({ key: row.sessionKey, userId: row.userId, apiKeyId: row.apiKeyId, email: row.email, keyName: row.keyName }),
  }));
}
