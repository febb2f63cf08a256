import { sql, type Kysely, type Migration } from "kysely";

/**
 * The embedded auth's ES256 signing keys (decision 011), replacing the HS256 secret that sat in
 * `settings` in plain text. Private keys are stored encrypted with the master key, bound to their
 * kid. Only the system role reads the table (the app role gets no grant at all), and at most one
 * key is `current` and one `standby`, whatever processes race to create or rotate them.
 */
export const signingKeys: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      create table signing_keys (
        kid text primary key,
        algorithm text not null default 'ES256' check (algorithm = 'ES256'),
        public_jwk jsonb not null,
        private_key text check ((private_key is null) = (status = 'revoked')),
        status text not null check (status in ('standby', 'current', 'previous', 'revoked')),
        created_at timestamptz not null default now(),
        activated_at timestamptz,
        retired_at timestamptz,
        revoked_at timestamptz
      )`.execute(db);
    await sql`create unique index signing_keys_one_current on signing_keys ((true)) where status = 'current'`.execute(db);
    await sql`create unique index signing_keys_one_standby on signing_keys ((true)) where status = 'standby'`.execute(db);

    await sql`grant select, insert, update, delete on signing_keys to workforce_system`.execute(db);
    await sql`alter table signing_keys enable row level security`.execute(db);
    await sql`alter table signing_keys force row level security`.execute(db);
    await sql`create policy system_access on signing_keys to workforce_system using (true) with check (true)`.execute(db);

    // The old HS256 secret: tokens it signed stop verifying (users sign in again or refresh).
    await sql`delete from settings where key = 'jwt_secret'`.execute(db);
  },
  async down(db: Kysely<unknown>) {
    await sql`drop table if exists signing_keys`.execute(db);
  },
};
