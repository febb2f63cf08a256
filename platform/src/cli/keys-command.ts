import { parseArgs } from "node:util";
import type { OpenDatabase } from "../db/open-database";
import {
  listSigningKeys,
  resetSigningKeys,
  revokeSigningKey,
  rotateSigningKeys,
  SAFE_TO_REVOKE_AFTER_SECONDS,
  SigningKeyError,
  type SigningKeyInfo,
} from "../auth/signing-key-store";
import { SIGNING_KEYS_REFRESH_MS } from "../auth/signing-keys";
import { CliError, type CliCommand, type CliContext } from "./cli-command";
import { loadCliMasterKey, openCliDatabase } from "./cli-environment";

const HELP = `Usage: npm run workforce -- keys <list | rotate | revoke <kid> | reset --yes>

The embedded auth signs access tokens (ES256) with the "current" signing key. Each key goes
  standby  -> published in the JWKS, signs nothing yet (so verifiers can cache it first)
  current  -> signs every new access token
  previous -> signs nothing, still verifies the tokens it signed until they expire (1 hour)
  revoked  -> tokens it signed are refused; its private key is erased

  list           show every key, its status and dates, and which previous keys are safe to revoke
  rotate         the standby key becomes current, the current one previous, and a new standby is made;
                 signed-in users keep working. Running platform processes switch within a minute.
  revoke <kid>   revoke a previous (or standby) key: its tokens are refused from now on (on running
                 platform processes within a minute). The current key cannot be revoked: rotate first.
  reset --yes    revoke every key and make new ones: only when the master key is lost (the keys
                 cannot be read) or every key must be presumed leaked. Every access token is
                 refused at once; clients get new ones with their refresh tokens.

Reads DATABASE_URL / DATABASE_MIGRATION_URL / PGLITE_DATA_DIR and WORKFORCE_SECRET_KEY /
WORKFORCE_SECRET_KEY_FILE like the platform. The embedded database can be open in one process
only: stop Workforce before running this on it.`;

const formatTime = (date: Date | null) => (date ? `${date.toISOString().slice(0, 16).replace("T", " ")}Z` : "-");

function keyTable(keys: SigningKeyInfo[]): string[] {
  const rows = [
    ["KID", "STATUS", "CREATED", "ACTIVATED", "RETIRED", "REVOKED", ""],
    ...keys.map((key) => [
      key.kid,
      key.status,
      formatTime(key.createdAt),
      formatTime(key.activatedAt),
      formatTime(key.retiredAt),
      formatTime(key.revokedAt),
      key.safeToRevoke ? "safe to revoke" : "",
    ]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd());
}

async function withDatabase<T>(context: CliContext, fn: (database: OpenDatabase) => Promise<T>): Promise<T> {
  const database = await openCliDatabase(context);
  try {
    return await fn(database);
  } catch (error) {
    if (error instanceof SigningKeyError) throw new CliError(error.message);
    throw error;
  } finally {
    await database.close();
  }
}

async function list(context: CliContext): Promise<number> {
  const keys = await withDatabase(context, (database) => listSigningKeys(database.system, context.now()));
  if (keys.length === 0) {
    context.out("There are no signing keys yet: the platform creates them when it first starts.");
    return 0;
  }
  for (const line of keyTable(keys)) context.out(line);
  const safe = keys.filter((key) => key.safeToRevoke);
  if (safe.length > 0) context.out(`\n${safe.length === 1 ? "A previous key is" : "Previous keys are"} safe to revoke: npm run workforce -- keys revoke <kid>`);
  return 0;
}

async function rotate(context: CliContext): Promise<number> {
  const masterKey = await loadCliMasterKey(context);
  const now = context.now();
  const rotation = await withDatabase(context, (database) => rotateSigningKeys(database.system, masterKey, now));
  context.out("Rotated the signing keys:");
  context.out(`  ${rotation.current}  is now current: it signs new access tokens`);
  if (rotation.previous) context.out(`  ${rotation.previous}  is now previous: it still verifies the tokens it signed until they expire`);
  context.out(`  ${rotation.standby}  is the new standby: published now, it signs after the next rotation`);
  context.out("Running platform processes switch to the new key within a minute; signed-in users are not affected.");
  if (rotation.previous) {
    const safeAt = new Date(now.getTime() + SAFE_TO_REVOKE_AFTER_SECONDS * 1000);
    context.out(`From ${formatTime(safeAt)} on, revoking the previous key refuses no live token: npm run workforce -- keys revoke ${rotation.previous}`);
  }
  return 0;
}

async function revoke(kid: string, context: CliContext): Promise<number> {
  const masterKey = await loadCliMasterKey(context);
  const now = context.now();
  const revocation = await withDatabase(context, (database) => revokeSigningKey(database.system, masterKey, kid, now));
  if (revocation.was === "revoked") {
    context.out(`${kid} was already revoked; nothing changed.`);
    return 0;
  }
  context.out(`Revoked ${kid} (it was ${revocation.was}): access tokens it signed are refused from now on, by running platform processes within a minute.`);
  if (revocation.newStandby) context.out(`Made a new standby key in its place: ${revocation.newStandby}`);
  const retiredFor = revocation.retiredAt ? now.getTime() - revocation.retiredAt.getTime() : undefined;
  if (retiredFor !== undefined && retiredFor < SAFE_TO_REVOKE_AFTER_SECONDS * 1000) {
    context.out(`Note: it was retired only ${Math.max(0, Math.round(retiredFor / 60_000))} minutes ago, so some live sessions lose their access token; their apps get a new one with their refresh token.`);
  }
  if (retiredFor !== undefined && retiredFor < SIGNING_KEYS_REFRESH_MS) {
    context.out("Platform processes that have not yet noticed the rotation may sign with it for up to a minute; those tokens are refused too.");
  }
  return 0;
}

async function reset(context: CliContext): Promise<number> {
  const masterKey = await loadCliMasterKey(context);
  const result = await withDatabase(context, (database) => resetSigningKeys(database.system, masterKey, context.now()));
  context.out(`Revoked ${result.revoked.length} signing key(s)${result.revoked.length ? `: ${result.revoked.join(", ")}` : ""}.`);
  context.out(`New current key ${result.current}, new standby ${result.standby}, encrypted with master key ${masterKey.id}.`);
  context.out("Every access token issued before is refused; clients get new ones with their refresh tokens. Restart running platform processes.");
  return 0;
}

export const keysCommand: CliCommand = {
  name: "keys",
  summary: "list, rotate or revoke the embedded auth's signing keys",
  help: HELP,
  async run(args, context) {
    let parsed;
    try {
      parsed = parseArgs({ args, options: { help: { type: "boolean", short: "h" }, yes: { type: "boolean" } }, allowPositionals: true, strict: true });
    } catch (error) {
      throw new CliError(`${error instanceof Error ? error.message : String(error)}\n\n${HELP}`);
    }
    const [action, ...rest] = parsed.positionals;
    if (parsed.values.help) {
      context.out(HELP);
      return 0;
    }
    const usage = (problem: string) => new CliError(`${problem}\n\n${HELP}`);
    switch (action) {
      case "list":
      case "rotate":
        if (rest.length > 0) throw usage(`keys ${action} takes no arguments`);
        return action === "list" ? list(context) : rotate(context);
      case "revoke":
        if (rest.length !== 1 || !rest[0]) throw usage("keys revoke needs the kid of one key (see keys list)");
        return revoke(rest[0], context);
      case "reset":
        if (rest.length > 0) throw usage("keys reset takes no arguments");
        if (!parsed.values.yes) throw new CliError("keys reset revokes every signing key and refuses every access token at once; run it again with --yes to go ahead");
        return reset(context);
      case undefined:
        throw usage("keys needs a subcommand");
      default:
        throw usage(`unknown subcommand "keys ${action}"`);
    }
  },
};
