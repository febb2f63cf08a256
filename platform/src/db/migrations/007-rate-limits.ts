import { sql, type Kysely, type Migration } from "kysely";

/**
 * Rate-limit counters shared by every platform process (`limits/rate-limiter.ts`): one row per
 * key and fixed window, changed only by single atomic upserts, so parallel requests on any
 * process see one consistent count. Replaces `sign_in_failures`, which counted per email only
 * and was read and written in separate statements (a burst of parallel guesses all got through).
 *
 * Only `workforce_system` touches it (the limiter runs in `withSystem`); the app role gets no
 * grant. `expires_at` is indexed so pruning expired windows is a short range scan.
 */
export const rateLimits: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      create table rate_limits (
        key text primary key,
        window_start timestamptz not null,
        expires_at timestamptz not null,
        count integer not null check (count >= 0)
      )`.execute(db);
    await sql`create index rate_limits_expires_idx on rate_limits (expires_at)`.execute(db);
    await sql`grant select, insert, update, delete on rate_limits to workforce_system`.execute(db);
    await sql`alter table rate_limits enable row level security`.execute(db);
    await sql`alter table rate_limits force row level security`.execute(db);
    await sql`create policy system_access on rate_limits to workforce_system using (true) with check (true)`.execute(db);
    // Its policies and grants go with it.
    await sql`drop table if exists sign_in_failures`.execute(db);
  },
  async down(db: Kysely<unknown>) {
    await sql`drop table if exists rate_limits`.execute(db);
    await sql`
      create table sign_in_failures (
        id uuid primary key default gen_random_uuid(),
        email text not null,
        failed_at timestamptz not null default now()
      )`.execute(db);
    await sql`create index sign_in_failures_email_idx on sign_in_failures (email, failed_at)`.execute(db);
    await sql`grant select, insert, update, delete on sign_in_failures to workforce_system`.execute(db);
    await sql`alter table sign_in_failures enable row level security`.execute(db);
    await sql`alter table sign_in_failures force row level security`.execute(db);
    await sql`create policy system_access on sign_in_failures to workforce_system using (true) with check (true)`.execute(db);
  },
};
