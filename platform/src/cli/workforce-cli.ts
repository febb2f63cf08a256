/**
 * `npm run workforce -- <command>`: the operator's command line (decision 011). One entry point,
 * one list of commands; `doctor` and `keys` now, `backup` and `restore` (issue 12) join here as
 * further CliCommands. Process globals are read here and nowhere below.
 */
import os from "node:os";
import type { CliCommand } from "./cli-command";
import { backupCommand } from "../ops/backup/backup-command";
import { restoreCommand } from "../ops/backup/restore-command";
import { doctorCommand } from "./doctor-command";
import { keysCommand } from "./keys-command";
import { secretsCommand } from "./secrets-command";
import { runCli } from "./run-cli";

const commands: CliCommand[] = [doctorCommand, keysCommand, secretsCommand, backupCommand, restoreCommand];

runCli(
  process.argv.slice(2),
  {
    env: process.env,
    homeDir: os.homedir(),
    now: () => new Date(),
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    isTty: process.stdout.isTTY === true,
    write: (text) => process.stderr.write(text),
  },
  commands,
).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`workforce: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
