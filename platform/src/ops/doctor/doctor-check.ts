/**
 * The shape of `workforce doctor`: a list of checks, each answering one question about the
 * installation with a status, the cause when it is not fine, and the exact fix.
 */
export type CheckStatus = "pass" | "warn" | "fail" | "skip";

export interface CheckResult {
  /** Short and stable, e.g. "tenant data dir", "hook token": `--json` consumers key on it. */
  name: string;
  status: CheckStatus;
  /** What was found (pass), or why it is wrong (warn / fail), or why it was not checked (skip). */
  detail: string;
  /** The exact fix, for warn and fail. */
  fix?: string;
}

/** What every check may use. Process globals are read by the CLI entry point only. */
export interface DoctorContext {
  env: Record<string, string | undefined>;
  homeDir: string;
  now: () => Date;
  fetch: typeof fetch;
  /** How long a network probe may take before it counts as no answer. */
  timeoutMs: number;
}

export const pass = (name: string, detail: string): CheckResult => ({ name, status: "pass", detail });
export const warn = (name: string, detail: string, fix: string): CheckResult => ({ name, status: "warn", detail, fix });
export const fail = (name: string, detail: string, fix: string): CheckResult => ({ name, status: "fail", detail, fix });
export const skip = (name: string, detail: string): CheckResult => ({ name, status: "skip", detail });

export const errorText = (error: unknown): string => {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : "";
    return `${error.message}${cause}`;
  }
  return String(error);
};

const MARKS: Record<CheckStatus, string> = { pass: "✓", warn: "!", fail: "✗", skip: "–" };

/** The report for a person: one line per check, the cause and fix indented beneath. */
export function renderText(results: CheckResult[], live: boolean): string[] {
  const lines = [live ? "workforce doctor: checking the configuration and the running system" : "workforce doctor: nothing is running, checking the configuration only", ""];
  for (const result of results) {
    lines.push(`${MARKS[result.status]} ${result.name}: ${result.detail}`);
    if (result.fix) lines.push(`    fix: ${result.fix}`);
  }
  const count = (status: CheckStatus) => results.filter((result) => result.status === status).length;
  lines.push("", `${count("pass")} passed, ${count("warn")} warnings, ${count("fail")} failed, ${count("skip")} skipped`);
  return lines;
}

export const hasFailures = (results: CheckResult[]) => results.some((result) => result.status === "fail");
