/**
 * A secret's value never leaves the store except to the integration that needs it: not into a log
 * line (the access log, an error line), an API answer (the secret list, the audit log, the
 * export) or an error message. The platform runs with its real logger at debug level, written to
 * memory; the values are recognisable, so any leak is found wherever it lands.
 */
import { createLogContext } from "@workforce/logging";
import { AppError } from "@workforce/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withSystem, withTenant } from "../db/scopes";
import { createPlatformLogger, errorReporter } from "../ops/log/platform-logger";
import { startFakeGateway, type FakeGateway } from "../test-support/fake-gateway";
import { caller, createTestPlatform, signUp, type TestPlatform } from "../test-support/test-platform";

const MODEL_KEY = "sk-ant-api03-NEVER-LOGGED-model-key-7f3a";
const HEADER_TOKEN = "NEVER-LOGGED-bearer-token-91c2";
const TOO_LONG_LEAK = "NEVER-LOGGED-in-a-refused-put";
const lines: string[] = [];
let logError: (message: string, error: unknown) => void;

let gateway: FakeGateway;
let platform: TestPlatform;
let owner: { token: string; userId: string; tenantId: string };

beforeAll(async () => {
  gateway = await startFakeGateway();
  const logContext = createLogContext();
  const logger = createPlatformLogger({ LOG_LEVEL: "debug" }, { context: logContext, pretty: false, destination: { write: (line: string) => void lines.push(line) } });
  logError = errorReporter(logger);
  platform = await createTestPlatform({ gatewayUrl: gateway.url, parts: { logger, logContext, logError } });
  owner = await signUp(platform, "olga@example.com");
});
afterAll(async () => {
  await platform.close();
  await gateway.close();
});

const leaks = (text: string) => [MODEL_KEY, HEADER_TOKEN, TOO_LONG_LEAK, "NEVER-LOGGED"].filter((value) => text.includes(value));

describe("a secret's value", () => {
  it("is in no log line, API answer or error, whatever happens to it", async () => {
    const { tenantId, userId } = owner;
    const store = platform.secrets;
    await withTenant(platform.database.db, tenantId, async (trx) => {
      await store.put(trx, tenantId, { name: "model-key/anthropic", kind: "model-key", value: MODEL_KEY, userId });
      await store.put(trx, tenantId, { name: "mcp/linear/headers", kind: "mcp-headers", value: JSON.stringify({ authorization: `Bearer ${HEADER_TOKEN}` }), userId });
    });
    // A refused value is not echoed by the refusal.
    const refused = await withTenant(platform.database.db, tenantId, (trx) => store.put(trx, tenantId, { name: "Bad Name", kind: "webhook", value: TOO_LONG_LEAK })).catch(
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(AppError);
    logError("could not store a secret", refused);

    // A value that no longer decrypts (moved to another row) fails by name, and its error is logged as the app logs a 500.
    await withSystem(platform.database.system, async (trx) => {
      const { ciphertext } = await trx.selectFrom("tenant_secrets").select("ciphertext").where("tenant_id", "=", tenantId).where("name", "=", "model-key/anthropic").executeTakeFirstOrThrow();
      await trx.insertInto("tenant_secrets").values({ tenant_id: tenantId, name: "model-key/openai", kind: "model-key", ciphertext, hint: "set", updated_by: null }).execute();
    });
    const unreadable = await withTenant(platform.database.db, tenantId, (trx) => store.reveal(trx, tenantId, "model-key/openai")).catch((error: unknown) => error);
    expect(unreadable).toMatchObject({ code: "secret_unreadable", message: expect.stringContaining('"model-key/openai"') });
    logError("could not prepare the run's integrations", unreadable);

    const call = caller(platform);
    const answers: string[] = [];
    for (const path of ["/api/secrets", "/api/audit", "/api/tenant/export"]) {
      const response = await call("GET", path, { token: owner.token });
      expect({ path, status: response.status }).toEqual({ path, status: 200 });
      answers.push(await response.text());
    }
    const listed = JSON.parse(answers[0]!) as { secrets: { name: string; hint: string }[] };
    expect(listed.secrets.map((secret) => [secret.name, secret.hint])).toEqual([
      ["mcp/linear/headers", "set"],
      ["model-key/anthropic", "…7f3a"],
      ["model-key/openai", "set"],
    ]);
    expect(answers.map(leaks)).toEqual([[], [], []]);

    const log = lines.join("");
    // The log did record what happened: the requests, the refusal and the unreadable secret by name.
    expect(log).toContain('"route":"/api/secrets"');
    expect(log).toContain("secret.name: must be 1–200 characters");
    expect(log).toContain('the organisation\'s secret \\"model-key/openai\\" cannot be decrypted');
    expect(leaks(log)).toEqual([]);
    // Nor the stored envelopes, which with the master key would be the values.
    expect(log).not.toMatch(/v1\.[0-9a-f]{16}\./);
  });
});
