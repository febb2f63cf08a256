import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { ApiErrorBody } from "@workforce/protocol";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { createClient } from "@supabase/supabase-js";
import type { PlatformApp } from "../app";
import type { SigningKey } from "../auth/access-token";
import type { AuthService } from "../auth/auth-service";
import { listMemberships } from "../auth/authenticate";
import { embeddedPublishableKey } from "../auth/publishable-key";
import { createAuthGuards } from "../auth/auth-ports";
import { createHashLimiter } from "../auth/hash-limiter";
import { createPasswordHasher } from "../auth/password";
import { createRateLimiter } from "../limits/rate-limiter";
import { decryptPrivateKey, readActiveSigningKeys } from "../auth/signing-key-store";
import { createSigningKeyRing, type SigningKeyRing } from "../auth/signing-keys";
import { generateMasterKey, type MasterKey } from "../secrets/master-key";
import { createTenantSecrets, type TenantSecrets } from "../secrets/tenant-secrets";
import { composePlatform, type ComposedPlatform, type PlatformParts } from "../compose-platform";
import { openDatabase, type DatabaseOptions, type OpenDatabase } from "../db/open-database";
import { withSystem } from "../db/scopes";
import { createStreamStatsStore, STREAM_STATS_DEFAULTS } from "../db/stream-stats-store";
import { createGatewayClient } from "../gateway-client";
import { createOutboxMailer } from "../mail/outbox-mailer";
import { listOutbox } from "../mail/outbox-store";
import { createStreamStats, type StreamStats } from "../stream-stats";
import type { PolicyPusher } from "../tenant-limits/policy-push";

export const TEST_ORIGIN = "http://platform.test";
/** One master key for every test platform of a worker, so instances sharing a database can read each other's keys. */
export const TEST_MASTER_KEY = generateMasterKey();

const ROOMY = { limit: 100_000, windowMs: 60_000 };
/** Auth rate limits for suites that are not about rate limits. */
export const ROOMY_LIMITS = {
  signIn: { perAddress: ROOMY, perAccountAddress: ROOMY, perAccount: ROOMY },
  signUp: { perAddress: ROOMY },
  email: { perAddress: ROOMY, perEmail: ROOMY },
  codes: { perAddress: ROOMY, perEmail: ROOMY },
};

/** API limits for suites that are not about them; the rate-limit suites pass their own. */
export const ROOMY_API_LIMITS = { requestsPerMinute: 1_000_000, maxStreams: 10_000 };

export interface TestPlatform {
  app: PlatformApp;
  database: OpenDatabase;
  stats: StreamStats;
  signingKeys: SigningKeyRing;
  /** The tenant secret store the platform was given (a real one under the test master key, unless `parts.secrets` replaced it). */
  secrets: TenantSecrets;
  /** The current signing key itself, for tests that make tokens the platform must judge by their claims. */
  signingKey(): Promise<SigningKey>;
  /** Embedded auth (undefined in Supabase mode). */
  auth: AuthService | undefined;
  /** Where this platform's mails land. */
  outboxDir: string;
  /** Pushes organisations' policies to the gateway; its reconcile loop is not started unless a test starts it. */
  policies: PolicyPusher;
  /** fetch that goes straight into app.fetch (for supabase-js and friends). */
  fetch: typeof fetch;
  /** The job queue (not started: tests call `jobs.runDue()`, in fake time when `now` was given). */
  jobs: ComposedPlatform["jobs"];
  /** Starts runs on the platform's own account (schedules, heartbeats, approval resumes). */
  firePlatformRun: ComposedPlatform["firePlatformRun"];
  /** Reads the gateway's usage journals (run outcomes) now. */
  ingest: ComposedPlatform["ingest"];
  close(): Promise<void>;
}

/** Opens a fresh migrated in-memory PGlite (a fresh Postgres schema when DATABASE_URL is set); `log` sees every statement. */
export async function openTestDatabase(options: Pick<DatabaseOptions, "log"> = {}): Promise<OpenDatabase> {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) return openDatabase({ pgliteDataDir: "memory://", log: options.log });
  const schema = `test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  await adminQuery(databaseUrl, `create schema "${schema}"`);
  const database = await openDatabase({ databaseUrl, schema, log: options.log });
  return {
    ...database,
    async close() {
      await database.close();
      await adminQuery(databaseUrl, `drop schema "${schema}" cascade`);
    },
  };
}

/** One statement on its own connection, as DATABASE_URL's login (creating and dropping test schemas). */
export async function adminQuery(databaseUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** The platform wired to a fresh database and the given gateway URL, in-process, with mail in a temporary outbox. */
export async function createTestPlatform(options: {
  gatewayUrl: string;
  hookToken?: string;
  /** Replaces parts of the platform (sign-up policy, auth mode, caches, directories…). */
  parts?: Partial<PlatformParts>;
  /** Share another test platform's database (a second instance behind the same load balancer). */
  database?: OpenDatabase;
  masterKey?: MasterKey;
  /** The platform's clock (fake time for schedules and job tests); the real one by default. */
  now?: () => Date;
}): Promise<TestPlatform> {
  const shared = options.database;
  const database = shared ?? (await openTestDatabase());
  const now = options.now ?? (() => new Date());
  const masterKey = options.masterKey ?? TEST_MASTER_KEY;
  const webDistDir = await mkdtemp(path.join(os.tmpdir(), "workforce-web-"));
  const outboxDir = await mkdtemp(path.join(os.tmpdir(), "workforce-outbox-"));
  const logError = (message: string, error: unknown) => console.error(message, error);
  const stats = createStreamStats({
    store: createStreamStatsStore(database.system, STREAM_STATS_DEFAULTS),
    instanceId: randomUUID(),
    publishIntervalMs: 1_000,
    logError,
  });
  stats.start();
  const gateway = options.parts?.gateway ?? createGatewayClient({ baseUrl: options.gatewayUrl, hookToken: options.hookToken });
  const signingKeys = createSigningKeyRing({ system: database.system, masterKey, now, logError });
  await signingKeys.load();
  const issuer = `${TEST_ORIGIN}/auth/v1`;
  const secrets = options.parts?.secrets ?? createTenantSecrets({ keys: { current: masterKey }, now });
  const composed = composePlatform({
    database,
    gateway,
    stats,
    now,
    publicUrl: TEST_ORIGIN,
    signup: { mode: "open", domains: [] },
    confirmation: "optional",
    defaultMonthlyTokens: null,
    mailer: createOutboxMailer({ dir: outboxDir, from: "Workforce <no-reply@platform.test>", now }),
    outboxDir,
    embedded: {
      issueAccessToken: signingKeys.issueAccessToken,
      verify: signingKeys.verifier({ issuer }),
      jwks: signingKeys.jwks,
      passwords: createPasswordHasher({ limiter: createHashLimiter() }),
      // Every in-process request comes from "unknown": limits a whole suite can live with. The
      // throttling tests pass the real defaults and distinct X-Forwarded-For addresses.
      guards: createAuthGuards(createRateLimiter({ system: database.system, now }), ROOMY_LIMITS),
    },
    supabase: undefined,
    // In-process requests have no socket: X-Forwarded-For stands in for the caller's address.
    clientAddress: (c) => c.req.header("x-forwarded-for")?.split(",")[0]?.trim() || "unknown",
    isLoopback: () => false,
    tenantDataDir: "/tmp/fake",
    webDistDir,
    logError,
    apiLimits: { defaults: ROOMY_API_LIMITS },
    secrets,
    ...options.parts,
  });
  const { app, usage, policies, apiLimiter } = composed;
  const appFetch = ((input: Parameters<typeof fetch>[0], init?: RequestInit) => app.fetch(new Request(input, init))) as typeof fetch;
  return {
    app,
    database,
    stats,
    signingKeys,
    secrets,
    async signingKey() {
      const current = (await readActiveSigningKeys(database.system)).find((key) => key.status === "current");
      if (!current?.encryptedPrivateKey) throw new Error("no current signing key");
      return { kid: current.kid, privateKey: decryptPrivateKey(masterKey, current.kid, current.encryptedPrivateKey) };
    },
    auth: composed.auth,
    policies,
    outboxDir,
    fetch: appFetch,
    jobs: composed.jobs,
    firePlatformRun: composed.firePlatformRun,
    ingest: composed.ingest,
    async close() {
      composed.approvals.close();
      await composed.jobs.stop();
      gateway.streams.close();
      signingKeys.stop();
      await policies.stop();
      await usage.flush();
      await apiLimiter.close();
      await stats.stop();
      if (!shared) await database.close();
      await rm(webDistDir, { recursive: true, force: true });
      await rm(outboxDir, { recursive: true, force: true });
    },
  };
}

/**
 * The real @supabase/supabase-js client pointed at an in-process platform, as the web app would
 * use it (no storage between tests, no background refresh timers).
 */
export function supabaseClient(platform: Pick<TestPlatform, "fetch">) {
  return createClient(TEST_ORIGIN, embeddedPublishableKey(TEST_ORIGIN), {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    global: { fetch: platform.fetch },
  });
}

/** The newest mail in a test platform's outbox to `to`, with the first link and code it carries. */
export async function latestMail(
  platform: TestPlatform,
  to: string,
  subject?: RegExp,
): Promise<{ subject: string; text: string; link: string | undefined; code: string | undefined }> {
  const { entries } = await listOutbox(platform.outboxDir);
  const entry = entries.find((candidate) => candidate.to === to && (!subject || subject.test(candidate.subject)));
  if (!entry) throw new Error(`no mail to ${to}${subject ? ` matching ${String(subject)}` : ""} in the outbox`);
  const link = /https?:\/\/\S+/.exec(entry.text)?.[0];
  const code = /code: (\d{6})/.exec(entry.text)?.[1];
  return { subject: entry.subject, text: entry.text, link, code };
}

/** Signs up over the GoTrue route and returns the access token and tenant id. */
export async function signUp(platform: TestPlatform, email: string, password = "correct horse battery"): Promise<{ token: string; userId: string; tenantId: string }> {
  const response = await platform.app.request(`${TEST_ORIGIN}/auth/v1/signup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  if (response.status !== 200) throw new Error(`sign-up failed: ${response.status} ${await response.text()}`);
  const session = (await response.json()) as { access_token: string; user: { id: string } };
  const tenantId = (await listMemberships(platform.database.db, session.user.id))[0]?.id;
  if (!tenantId) throw new Error("no tenant after sign-up");
  return { token: session.access_token, userId: session.user.id, tenantId };
}

/** The `{ error }` body of a failed response, validated against the shared shape. */
export async function errorOf(response: Response): Promise<{ status: number; code: string; message: string }> {
  const body = ApiErrorBody.parse(await response.json());
  return { status: response.status, code: body.error.code, message: body.error.message };
}

export interface CallOptions {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A small request helper bound to one in-process platform. */
export function caller(platform: TestPlatform) {
  return (method: string, path: string, options: CallOptions = {}) =>
    platform.app.request(`${TEST_ORIGIN}${path}`, {
      method,
      headers: {
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...(options.body === undefined ? {} : { "content-type": "application/json" }),
        ...options.headers,
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
}

/**
 * Confirms `email` with the link the platform mailed it (as a user following it would). The
 * installation's first account is confirmed from the start and gets no such mail.
 */
export async function confirmEmail(platform: TestPlatform, email: string): Promise<void> {
  const user = await withSystem(platform.database.system, (trx) => trx.selectFrom("users").select("email_confirmed_at").where("email", "=", email).executeTakeFirst());
  if (user?.email_confirmed_at) return;
  const mail = await latestMail(platform, email, /^Confirm your email address/);
  const tokenHash = mail.link ? new URL(mail.link).searchParams.get("token_hash") : null;
  if (!tokenHash) throw new Error(`the mail to ${email} has no confirmation link`);
  const verified = await caller(platform)("POST", "/auth/v1/verify", { body: { type: "signup", token_hash: tokenHash } });
  if (verified.status !== 200) throw new Error(`confirming ${email} failed: ${verified.status} ${await verified.text()}`);
}

/** The token of the newest invitation mailed to `email` (from its `/invite/<token>` link). */
export async function invitationTokenFor(platform: TestPlatform, email: string): Promise<string> {
  const mail = await latestMail(platform, email, /invited you/);
  const token = mail.link ? /\/invite\/([^/?#\s]+)/.exec(mail.link)?.[1] : undefined;
  if (!token) throw new Error(`no invitation link in the mail to ${email}`);
  return decodeURIComponent(token);
}

/** Signs up `email`, confirms the address, and makes them a member of the inviter's current organisation with `role`. */
export async function joinAs(
  platform: TestPlatform,
  inviter: { token: string; tenantId: string },
  email: string,
  role: "owner" | "admin" | "member",
): Promise<{ token: string; userId: string; tenantId: string }> {
  const call = caller(platform);
  const user = await signUp(platform, email);
  await confirmEmail(platform, email);
  const invitation = await call("POST", "/api/invitations", { token: inviter.token, body: { email, role }, headers: { "x-tenant-id": inviter.tenantId } });
  if (invitation.status !== 201) throw new Error(`invitation failed: ${invitation.status} ${await invitation.text()}`);
  const token = await invitationTokenFor(platform, email);
  const accepted = await call("POST", "/api/invitations/accept", { token: user.token, body: { token } });
  if (accepted.status !== 200) throw new Error(`accepting failed: ${accepted.status} ${await accepted.text()}`);
  return { ...user, tenantId: inviter.tenantId };
}
