/** What every `npm run workforce -- <command>` gets: no process globals, so commands run in tests too. */
export interface CliContext {
  env: Record<string, string | undefined>;
  homeDir: string;
  now: () => Date;
  /** One line of normal output. */
  out: (line: string) => void;
  /** One line of trouble. */
  err: (line: string) => void;
  /** Whether stdout is a terminal: progress is drawn for people there, and written as JSON lines otherwise. */
  isTty?: boolean;
  /** Raw text on stderr (a progress line redrawn in place); absent, progress is not drawn. */
  write?: (text: string) => void;
}

/** One top-level command of the operator CLI (`keys` now; `doctor`, `backup`, `restore` later). */
export interface CliCommand {
  name: string;
  /** One line for the overview. */
  summary: string;
  /** The command's own --help text. */
  help: string;
  /** Returns the exit code; throws CliError for a failure to report in one readable message. */
  run(args: string[], context: CliContext): Promise<number>;
}

/** An expected failure: printed as `workforce: <message>`, exit code 1, no stack trace. */
export class CliError extends Error {
  override name = "CliError";
}
