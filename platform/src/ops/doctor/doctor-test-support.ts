import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { CheckResult } from "./doctor-check";
import { runDoctor, type DoctorReport } from "./run-doctor";

/** The bin as operators run it: `npx workforce` resolves to bin/workforce.js in a checkout. */
export const workforceBin = fileURLToPath(new URL("../../../../bin/workforce.js", import.meta.url));

/** runDoctor in-process, with the real fetch; checks by name. */
export async function doctorIn(env: Record<string, string>, options: { now?: () => Date } = {}): Promise<DoctorReport & { check(name: string): CheckResult }> {
  const report = await runDoctor({ env, homeDir: env.HOME ?? "/nonexistent", now: options.now ?? (() => new Date()), fetch: globalThis.fetch, timeoutMs: 3_000 });
  return {
    ...report,
    check(name) {
      const found = report.checks.find((check) => check.name === name);
      if (!found) throw new Error(`no check "${name}" in ${report.checks.map((check) => check.name).join(", ")}`);
      return found;
    },
  };
}

/** Runs a command (the bin, or the bin inside `unshare`) and collects its output and exit code. */
export function runCommand(command: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

/** The JSON report of `workforce doctor --json`, run as a child process (optionally in a mount namespace). */
export async function doctorJson(env: Record<string, string>, mounts?: string): Promise<{ code: number | null; report: { ok: boolean; live: boolean; checks: CheckResult[] }; stderr: string }> {
  const doctor = `"${process.execPath}" "${workforceBin}" doctor --json`;
  // unshare -r: an unprivileged user becomes root of a new mount namespace; no real mount is touched.
  const result = mounts ? await runCommand("unshare", ["-rm", "sh", "-c", `${mounts} && exec ${doctor}`], env) : await runCommand("sh", ["-c", `exec ${doctor}`], env);
  try {
    return { code: result.code, report: JSON.parse(result.stdout) as { ok: boolean; live: boolean; checks: CheckResult[] }, stderr: result.stderr };
  } catch {
    throw new Error(`doctor printed no JSON (exit ${String(result.code)}): ${result.stdout}\n${result.stderr}`);
  }
}

export const checkNamed = (checks: CheckResult[], name: string) => checks.find((check) => check.name === name);
