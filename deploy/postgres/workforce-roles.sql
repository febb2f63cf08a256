-- The roles of decision 009, made once by a superuser on an empty server (compose runs it through
-- init-workforce-roles.sh; on a managed server run it yourself with psql, as below). Afterwards
-- nothing the platform logs in as is a superuser:
--   :owner_role  owns the tables; used only to migrate (DATABASE_MIGRATION_URL)
--   :app_login   the platform's everyday login (DATABASE_URL): owns nothing, and may only become
--                workforce_app (tenant scopes) and, through it, workforce_system
--
--   psql -v ON_ERROR_STOP=1 -v database=workforce -v owner_role=workforce_owner \
--     -v owner_password="$WORKFORCE_DB_OWNER_PASSWORD" -v app_login=workforce_platform \
--     -v app_password="$WORKFORCE_DB_PASSWORD" -f workforce-roles.sql
--
-- Passwords come from psql variables (quoted with :'…'), never from this file.
\set ON_ERROR_STOP on

-- The two roles the migrations switch to. The migrations create them too, but that needs
-- CREATEROLE, which the owner does not get; roles are cluster-wide, so another database on the
-- same server may have made them already.
do $$
declare
  role_name text;
begin
  foreach role_name in array array['workforce_app', 'workforce_system'] loop
    if not exists (select from pg_roles where rolname = role_name) then
      begin
        execute format('create role %I nologin nosuperuser nobypassrls noinherit', role_name);
      exception when duplicate_object or unique_violation then null;
      end;
    end if;
  end loop;
end $$;

create role :"owner_role" login password :'owner_password'
  nosuperuser nocreatedb nocreaterole nobypassrls noreplication;
create role :"app_login" login password :'app_password'
  nosuperuser nocreatedb nocreaterole nobypassrls noreplication;

-- The owner migrates: it grants the two roles their table privileges and makes workforce_app a
-- member of workforce_system (migration 004), and may grant workforce_app to the login (the
-- platform does at start-up when it is missing): all of that needs ADMIN OPTION, not CREATEROLE.
grant workforce_app to :"owner_role" with admin option;
grant workforce_system to :"owner_role" with admin option;
grant workforce_system to workforce_app;
-- The login inherits workforce_app's table privileges (never workforce_system's: workforce_app is
-- NOINHERIT), so even a query outside any scope is filtered by the FORCEd policies.
grant workforce_app to :"app_login";

-- The owner creates the tables: the database and its public schema become its own.
alter database :"database" owner to :"owner_role";
alter schema public owner to :"owner_role";
revoke all on database :"database" from public;
grant connect, temporary on database :"database" to :"app_login";
