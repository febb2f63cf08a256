import { parseArgs } from "node:util";
import { ConfigError } from "../config";
import { beginKeyFileRotation, finishKeyFileRotation } from "../secrets/master-key-file-rotation";
import { loadMasterKey, MasterKeyError } from "../secrets/master-key";
import type { MasterKeyRing } from "../secrets/master-key-ring";
import { countByMasterKey, rewrapUnderCurrentKey, type RewrapCounts, type RewrapReport } from "../secrets/master-key-rotation";
import { previousKeyFile, readSecretKeyConfig, type SecretKeyConfig } from "../secrets/secret-key-config";
import { CliError, type CliCommand, type CliContext } from "./cli-command";
import { openCliDatabase } from "./cli-environment";

const HELP = `Usage: npm run workforce -- secrets <status | rotate-master-key>

The organisations' integration secrets (model keys, MCP and Composio credentials, webhook
secrets) and the embedded auth's signing keys are stored encrypted under the master key
(WORKFORCE_SECRET_KEY, or the key file WORKFORCE_SECRET_KEY_FILE). Values are never shown.

  status              how many values each master key protects
  rotate-master-key   re-wrap every value under the current master key, in batches; safe to run
                      again (a second run finds nothing to do) and to interrupt (run it again)

With WORKFORCE_SECRET_KEY (several processes, no downtime):
  1. give every platform process the new key as WORKFORCE_SECRET_KEY and the old one as
     WORKFORCE_SECRET_KEY_PREVIOUS, and restart them one by one;
  2. run this command with the same two variables;
  3. remove WORKFORCE_SECRET_KEY_PREVIOUS and restart the processes again.

With the key file (npm start): stop Workforce, run this command (it makes the new key, keeps the
old one as <file>.previous until every value is re-wrapped, then removes it), back up the new
key file, and start Workforce again.`;

type Label = keyof RewrapCounts;
const LABELS: Label[] = ["tenant secrets", "signing keys"];

function keyConfig(context: CliContext): SecretKeyConfig {
  const config = readSecretKeyConfig(context.env, context.homeDir);
  if (!config.ok) throw new CliError(new ConfigError(config.problems).message);
  return config.config;
}

async function cliKeys<T>(load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (error instanceof MasterKeyError) throw new CliError(error.message);
    throw error;
  }
}

async function loadRing(config: SecretKeyConfig, context: CliContext): Promise<MasterKeyRing> {
  const loaded = await cliKeys(() => loadMasterKey(config, { create: false }));
  for (const warning of loaded.warnings) if (!warning.includes("secrets rotate-master-key")) context.err(`workforce: warning: ${warning}`);
  return { current: loaded.masterKey, previous: loaded.previous };
}

const keyRole = (ring: MasterKeyRing, id: string) => (id === ring.current.id ? " (current)" : id === ring.previous?.id ? " (previous)" : id === "-" ? " (revoked signing keys: none kept)" : " (not configured)");

async function status(context: CliContext): Promise<number> {
  const ring = await loadRing(keyConfig(context), context);
  const database = await openCliDatabase(context);
  try {
    const counts = await countByMasterKey(database.system);
    for (const label of LABELS) {
      const entries = Object.entries(counts[label]);
      context.out(entries.length === 0 ? `${label}: none` : `${label}:`);
      for (const [id, count] of entries) context.out(`  master key ${id}${keyRole(ring, id)}: ${count}`);
    }
    const stale = LABELS.some((label) => Object.keys(counts[label]).some((id) => id !== ring.current.id && id !== "-"));
    context.out(stale ? "Some values are not under the current master key: npm run workforce -- secrets rotate-master-key" : `Every value is under the current master key ${ring.current.id}.`);
    return 0;
  } finally {
    await database.close();
  }
}

function reportLines(report: RewrapReport): string[] {
  const total = report.rewrapped["tenant secrets"] + report.rewrapped["signing keys"];
  if (total === 0 && report.unreadable.length === 0) return [`Nothing to re-wrap: every value is under master key ${report.masterKeyId}.`];
  return [`Re-wrapped under master key ${report.masterKeyId}: ${report.rewrapped["tenant secrets"]} tenant secret(s), ${report.rewrapped["signing keys"]} signing key(s).`];
}

async function rotate(context: CliContext): Promise<number> {
  const config = keyConfig(context);
  // The database first: the embedded one refuses while Workforce runs, before any key changes.
  const database = await openCliDatabase(context);
  try {
    let ring: MasterKeyRing;
    if (config.source === "file") {
      const rotation = await cliKeys(() => beginKeyFileRotation(config.path));
      ring = rotation;
      context.out(
        rotation.resumed
          ? `Finishing an interrupted rotation from master key ${rotation.previous.id} to ${rotation.current.id} (${config.path}).`
          : `Made a new master key ${rotation.current.id} in ${config.path}; the old one (${rotation.previous.id}) is kept in ${previousKeyFile(config.path)} until every value is re-wrapped.`,
      );
    } else {
      ring = await loadRing(config, context);
    }
    const report = await rewrapUnderCurrentKey(database.system, ring, {
      onBatch: (label, count) => context.err(`workforce: ${count} ${label} re-wrapped so far`),
    });
    for (const line of reportLines(report)) context.out(line);
    if (report.unreadable.length > 0) {
      for (const entry of report.unreadable) context.err(`workforce: cannot re-wrap ${entry.what}: ${entry.reason}`);
      const hint = config.source === "env" ? "set WORKFORCE_SECRET_KEY_PREVIOUS to the key they name and run this again" : `${previousKeyFile(config.path)} is kept; restore the key they name`;
      throw new CliError(`${report.unreadable.length} value(s) could not be decrypted with the configured master keys: ${hint}`);
    }
    const left = report.remaining["tenant secrets"] + report.remaining["signing keys"];
    if (left > 0) {
      throw new CliError(
        `${left} value(s) were written under another master key while this ran: a platform process still encrypts with the old key. Restart every process with the new WORKFORCE_SECRET_KEY and run this again`,
      );
    }
    if (config.source === "file") {
      await finishKeyFileRotation(config.path);
      context.out(`Removed the old master key. Back up ${config.path} now: it alone reads the secrets (backups taken before this rotation need the old key).`);
    } else if (ring.previous) {
      context.out("Every value is under the new key: remove WORKFORCE_SECRET_KEY_PREVIOUS from every platform process and restart them.");
    }
    return 0;
  } finally {
    await database.close();
  }
}

export const secretsCommand: CliCommand = {
  name: "secrets",
  summary: "see which master key protects the stored secrets, and rotate the master key",
  help: HELP,
  async run(args, context) {
    let parsed;
    try {
      parsed = parseArgs({ args, options: { help: { type: "boolean", short: "h" } }, allowPositionals: true, strict: true });
    } catch (error) {
      throw new CliError(`${error instanceof Error ? error.message : String(error)}\n\n${HELP}`);
    }
    if (parsed.values.help) {
      context.out(HELP);
      return 0;
    }
    const [action, ...rest] = parsed.positionals;
    if (rest.length > 0) throw new CliError(`secrets ${action ?? ""} takes no arguments\n\n${HELP}`);
    if (action === "status") return status(context);
    if (action === "rotate-master-key") return rotate(context);
    throw new CliError(`${action === undefined ? "secrets needs a subcommand" : `unknown subcommand "secrets ${action}"`}\n\n${HELP}`);
  },
};
