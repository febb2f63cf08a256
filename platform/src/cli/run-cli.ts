import { CliError, type CliCommand, type CliContext } from "./cli-command";

export function overview(commands: CliCommand[]): string {
  const width = Math.max(...commands.map((command) => command.name.length));
  return [
    "Usage: npm run workforce -- <command> [arguments]",
    "",
    "Operator commands for a Workforce installation. They read the platform's configuration",
    "(DATABASE_URL, DATABASE_MIGRATION_URL or PGLITE_DATA_DIR, WORKFORCE_SECRET_KEY or",
    "WORKFORCE_SECRET_KEY_FILE) from the environment, so run them with the platform's environment.",
    "",
    "Commands:",
    ...commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    "",
    "`npm run workforce -- <command> --help` describes a command.",
  ].join("\n");
}

/** Runs one command line; returns the exit code. Every failure ends as one readable line on stderr. */
export async function runCli(argv: string[], context: CliContext, commands: CliCommand[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    (name === undefined ? context.err : context.out)(overview(commands));
    return name === undefined ? 1 : 0;
  }
  const command = commands.find((candidate) => candidate.name === name);
  if (!command) {
    context.err(`workforce: unknown command "${name}"\n\n${overview(commands)}`);
    return 1;
  }
  try {
    return await command.run(args, context);
  } catch (error) {
    if (error instanceof CliError) {
      context.err(`workforce: ${error.message}`);
      return 1;
    }
    context.err(`workforce ${name}: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return 1;
  }
}
