import { sql, type Kysely, type Migration } from "kysely";
import { secureTenantTable } from "./tenant-table-rls";

/**
 * Search over an organisation's chats (issue 16, decision 043).
 *
 * session_search: one row per session, its title and its messages' text (`body`, capped), filled by
 * the `session.index` job after each run the usage ingest sees end, and kept in step by renames and
 * deletions. `document` is the full-text vector Postgres derives from them (title weighted above
 * the messages), with the `simple` configuration: no stemming, no stop words, so every language is
 * searched alike; prefix queries cover word endings. Goes with its agent and organisation (cascade).
 */
export const sessionSearch: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      create table session_search (
        tenant_id uuid not null references tenants(id) on delete cascade,
        agent_slug text not null,
        session_key text not null check (length(session_key) between 1 and 200),
        title text not null,
        body text not null,
        message_count integer not null check (message_count >= 0),
        session_updated_at timestamptz not null,
        indexed_at timestamptz not null,
        document tsvector generated always as (
          setweight(to_tsvector('simple'::regconfig, title), 'A') || setweight(to_tsvector('simple'::regconfig, body), 'B')
        ) stored,
        primary key (tenant_id, agent_slug, session_key),
        foreign key (tenant_id, agent_slug) references agents(tenant_id, slug) on delete cascade
      )`.execute(db);
    await sql`create index session_search_document_idx on session_search using gin (document)`.execute(db);
    await secureTenantTable(db, "session_search");
  },
  async down(db: Kysely<unknown>) {
    await sql`drop table if exists session_search`.execute(db);
  },
};
