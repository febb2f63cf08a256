import { parseArgs } from "node:util";
import { hasFailures, renderText } from "../ops/doctor/doctor-check";
import { runDoctor } from "../ops/doctor/run-doctor";
import { CliError, type CliCommand } from "./cli-command";

const HELP = `Usage: npx workforce doctor [--json] [--timeout <ms>]

Checks a Workforce installation and says, for each problem, its cause and the exact fix:
the configuration alone when nothing runs, and the running platform and gateway when they answer.

  ✓ fine   ! warning   ✗ failure   – skipped (with the reason)

Checks: Node version; the platform's variables; TENANT_DATA_DIR (missing, a file, read-only,
the macOS read-only root, /proc and other virtual file systems); disk space and inodes; the
platform's and the gateway's ports (free, or held by this system); the gateway answers and
accepts CLAWDBOT_HOOK_TOKEN; both services use the same TENANT_DATA_DIR; the platform's
/api/health; event streams through PUBLIC_URL (a buffering proxy); the database (reachable,
migrations current, row-level security forced, clock skew); REDIS_URL; the model provider's key.

Run it with the same environment as the services (the same .env, or inside the container).

  --json          one JSON document: { "ok", "live", "checks": [{ "name", "status", "detail", "fix" }] }
  --timeout <ms>  how long each network probe may take (default 3000)

Exit code 0 when nothing failed (warnings allowed), 1 otherwise.`;

export const doctorCommand: CliCommand = {
  name: "doctor",
  summary: "check the configuration and the running system; each problem with its cause and fix",
  help: HELP,
  async run(args, context) {
    let parsed;
    try {
      parsed = parseArgs({ args, options: { help: { type: "boolean", short: "h" }, json: { type: "boolean" }, timeout: { type: "string" } }, strict: true });
    } catch (error) {
      throw new CliError(`${error instanceof Error ? error.message : String(error)}\n\n${HELP}`);
    }
    if (parsed.values.help) {
      context.out(HELP);
      return 0;
    }
    const timeoutMs = parsed.values.timeout === undefined ? 3_000 : Number(parsed.values.timeout);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 60_000) throw new CliError("--timeout must be a whole number of milliseconds between 100 and 60000");
    const report = await runDoctor({ env: context.env, homeDir: context.homeDir, now: context.now, fetch: globalThis.fetch, timeoutMs });
    const failed = hasFailures(report.checks);
    if (parsed.values.json) context.out(JSON.stringify({ ok: !failed, ...report }, null, 2));
    else for (const line of renderText(report.checks, report.live)) context.out(line);
    return failed ? 1 : 0;
  },
};
