import { createLogContext, createLogger, LOG_LEVELS } from "@workforce/logging";
import { main } from "./main";

const env = process.env;
const context = createLogContext();
// An invalid LOG_LEVEL is reported by loadConfig (as a JSON line, at the default level).
const level = LOG_LEVELS.find((name) => name === env.LOG_LEVEL?.trim()) ?? "info";
const logger = createLogger({
  service: "gateway",
  level,
  pretty: Boolean(process.stdout.isTTY),
  context,
  secrets: [env.CLAWDBOT_HOOK_TOKEN, env.ANTHROPIC_API_KEY, env.OPENAI_API_KEY],
});

/** Entry point of `gateway` (bin/gateway.js and `npm run gateway`). */
const code = await main(process.argv.slice(2), env, logger, context);
process.exitCode = code;
logger.flush();
// Give stdio a moment to drain, then make sure a stray handle cannot keep a stopped gateway alive.
setTimeout(() => process.exit(code), 2_000).unref();
