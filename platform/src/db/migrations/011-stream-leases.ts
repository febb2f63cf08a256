import { sql, type Kysely, type Migration } from "kysely";

/**
 * Leases on open streams (`limits/stream-leases.ts`), shared by every platform process: one row
 * per open SSE stream, keyed by its subject (an API key, or a user in an organisation). A stream
 * is admitted only while fewer than the limit of its subject's leases are live, counted under a
 * per-subject advisory lock, so parallel opens on any process never exceed it.
 *
 * Leases expire unless their process renews them: a process that crashes frees its streams
 * within one lease lifetime. Only `workforce_system` touches the table, like `rate_limits` (007).
 */
export const streamLeases: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      create table stream_leases (
        id uuid primary key,
        subject text not null,
        acquired_at timestamptz not null,
        expires_at timestamptz not null
      )`.execute(db);
    await sql`create index stream_leases_subject_idx on stream_leases (subject, expires_at)`.execute(db);
    await sql`create index stream_leases_expires_idx on stream_leases (expires_at)`.execute(db);
    await sql`grant select, insert, update, delete on stream_leases to workforce_system`.execute(db);
    await sql`alter table stream_leases enable row level security`.execute(db);
    await sql`alter table stream_leases force row level security`.execute(db);
    await sql`create policy system_access on stream_leases to workforce_system using (true) with check (true)`.execute(db);
  },
  async down(db: Kysely<unknown>) {
    await sql`drop table if exists stream_leases`.execute(db);
  },
};
