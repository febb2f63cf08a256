import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { ApiErrorBody } from "@workforce/protocol";
import os from "node:os";
import path from "node:path";
import { createApp, type AppDeps, type PlatformApp } from "../app";
import { createAuthService } from "../auth/auth-service";
import { listMemberships } from "../auth/authenticate";
import type { SigningKey } from "../auth/access-token";
import { decryptPrivateKey, readActiveSigningKeys } from "../auth/signing-key-store";
import { createSigningKeyRing, type SigningKeyRing } from "../auth/signing-keys";
import pg from "pg";
import { openDatabase, type OpenDatabase } from "../db/open-database";
import { createGatewayClient } from "../gateway-client";
import { createStreamStatsStore, STREAM_STATS_DEFAULTS } from "../db/stream-stats-store";
import { createStreamStats, type StreamStats } from "../stream-stats";
import { generateMasterKey, type MasterKey } from "../secrets/master-key";
import { createUsageRecorder } from "../usage-recorder";

export const TEST_ORIGIN = "http://platform.test";
/** One master key for every test platform of a worker, so instances sharing a database can read each other's keys. */
export const TEST_MASTER_KEY = generateMasterKey();

export interface TestPlatform {
  app: PlatformApp;
  database: OpenDatabase;
  stats: StreamStats;
  signingKeys: SigningKeyRing;
  /** The current signing key itself, for tests that make tokens the platform must judge by their claims. */
  signingKey(): Promise<SigningKey>;
  /** fetch that goes straight into app.fetch (for supabase-js and friends). */
  fetch: typeof fetch;
  close(): Promise<void>;
}

/** Opens a fresh migrated in-memory PGlite (a fresh Postgres schema when DATABASE_URL is set). */
export async function openTestDatabase(): Promise<OpenDatabase> {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) return openDatabase({ pgliteDataDir: "memory://" });
  const schema = `test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  await adminQuery(databaseUrl, `create schema "${schema}"`);
  const database = await openDatabase({ databaseUrl, schema });
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

/** The platform app wired to a fresh database and the given gateway URL, in-process. */
export async function createTestPlatform(options: {
  gatewayUrl: string;
  hookToken?: string;
  overrides?: Partial<AppDeps>;
  /** Share another test platform's database (a second instance behind the same load balancer). */
  database?: OpenDatabase;
  /** The master key the signing keys are encrypted with; a platform sharing a database must share it too. */
  masterKey?: MasterKey;
}): Promise<TestPlatform> {
  const shared = options.database;
  const database = shared ?? (await openTestDatabase());
  const now = () => new Date();
  const webDistDir = await mkdtemp(path.join(os.tmpdir(), "workforce-web-"));
  const logError = (message: string, error: unknown) => console.error(message, error);
  const masterKey = options.masterKey ?? TEST_MASTER_KEY;
  const signingKeys = createSigningKeyRing({ system: database.system, masterKey, now, logError });
  await signingKeys.load();
  const stats = createStreamStats({
    store: createStreamStatsStore(database.system, STREAM_STATS_DEFAULTS),
    instanceId: randomUUID(),
    publishIntervalMs: 1_000,
    logError,
  });
  stats.start();
  const gateway = createGatewayClient({ baseUrl: options.gatewayUrl, hookToken: options.hookToken });
  const usage = createUsageRecorder({ db: database.db, logError });
  const app = createApp({
    db: database.db,
    system: database.system,
    gateway,
    usage,
    auth: createAuthService({ system: database.system, issueAccessToken: signingKeys.issueAccessToken, now }),
    verify: signingKeys.verifier({ issuer: `${TEST_ORIGIN}/auth/v1` }),
    jwks: signingKeys.jwks,
    stats,
    now,
    publicUrl: undefined,
    supabase: undefined,
    tenantDataDir: "/tmp/fake",
    webDistDir,
    logError,
    ...options.overrides,
  });
  const appFetch = ((input: Parameters<typeof fetch>[0], init?: RequestInit) => app.fetch(new Request(input, init))) as typeof fetch;
  return {
    app,
    database,
    stats,
    signingKeys,
    async signingKey() {
      const current = (await readActiveSigningKeys(database.system)).find((key) => key.status === "current");
      if (!current?.encryptedPrivateKey) throw new Error("no current signing key");
      return { kid: current.kid, privateKey: decryptPrivateKey(masterKey, current.kid, current.encryptedPrivateKey) };
    },
    fetch: appFetch,
    async close() {
      (options.overrides?.gateway ?? gateway).streams.close();
      await usage.flush();
      await stats.stop();
      if (!shared) await database.close();
      await rm(webDistDir, { recursive: true, force: true });
    },
  };
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

/** Signs up `email` and makes them a member of the inviter's current organisation with `role`. */
export async function joinAs(
  platform: TestPlatform,
  inviter: { token: string; tenantId: string },
  email: string,
  role: "owner" | "admin" | "member",
): Promise<{ token: string; userId: string; tenantId: string }> {
  const call = caller(platform);
  const user = await signUp(platform, email);
  const invitation = await call("POST", "/api/invitations", { token: inviter.token, body: { email, role }, headers: { "x-tenant-id": inviter.tenantId } });
  if (invitation.status !== 201) throw new Error(`invitation failed: ${invitation.status} ${await invitation.text()}`);
  const { token } = (await invitation.json()) as { token: string };
  const accepted = await call("POST", "/api/invitations/accept", { token: user.token, body: { token } });
  if (accepted.status !== 200) throw new Error(`accepting failed: ${accepted.status} ${await accepted.text()}`);
  return { ...user, tenantId: inviter.tenantId };
}
