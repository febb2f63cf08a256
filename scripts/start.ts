/**
 * `npm start` (through scripts/launch.js, from its bundle scripts/dist/start.js when that is up to
 * date): runs the gateway and the platform together on embedded defaults (PGlite, a
 * user-writable TENANT_DATA_DIR, a generated hook token, the offline model when no
 * ANTHROPIC_API_KEY is set). Ctrl-C stops both cleanly. On a terminal the services' log lines are
 * printed pretty and prefixed per service; otherwise every line, the launcher's own too, is a JSON
 * log record (docs/decisions/022-structured-logs.md).
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { createLogger } from "@workforce/logging";
import { ensureBuilt, GATEWAY_BUNDLE, PLATFORM_BUNDLE, repoRoot } from "./lib/build";
import { formatEnvHelp, PLATFORM_ENV_HELP } from "../platform/src/config-help";
import { ConfigError, resolveEmbeddedConfig } from "./lib/embedded-config";
import { portTakenMessage, probePort } from "../platform/src/ops/port-probe";
import { prefixFor, startService, stopService, waitForHealthy, type Service } from "./lib/supervisor";

const pretty = Boolean(process.stdout.isTTY);
const color = pretty && !process.env.NO_COLOR;
const launcherLog = pretty ? undefined : createLogger({ service: "workforce", secrets: [process.env.CLAWDBOT_HOOK_TOKEN] });
const say = (line: string) => (launcherLog ? launcherLog.info(line) : process.stdout.write(prefixFor("workforce", color) + line + "\n"));
/** A reason the launcher stops: plain text for a person, a JSON error line otherwise. */
const complain = (text: string) => (launcherLog ? launcherLog.error(text) : process.stderr.write(`${text}\n`));

async function main(): Promise<number> {
  if (process.argv.includes("--help") || process.argv.includes("-h")) {
    process.stdout.write(`Usage: npm start   (the gateway and the platform together, on embedded defaults)

Data lives under ~/.workforce ($XDG_DATA_HOME/workforce when set): tenants/, db/, outbox/, secret.key.
The platform listens on 127.0.0.1 unless HOST is set; open the URL it prints.

Platform variables:
${formatEnvHelp(PLATFORM_ENV_HELP)}

Gateway variables: npm run gateway -- --help
Operator commands: npm run workforce -- --help
`);
    return 0;
  }
  let config;
  try {
    config = resolveEmbeddedConfig(process.env, process.cwd());
  } catch (error) {
    if (error instanceof ConfigError) {
      complain(`Cannot start Workforce:\n${error.message}`);
      return 1;
    }
    throw error;
  }
  for (const note of config.notes) say(note);

  // A port another process holds would let the health checks below reach that process and call
  // this start a success; find out before starting anything.
  const platformHost = process.env.HOST ?? "127.0.0.1";
  for (const [service, variable, host, port] of [
    ["platform", "PORT", platformHost, config.port],
    ["gateway", "CLAWDBOT_GATEWAY_URL", config.gatewayHost, config.gatewayPort],
  ] as const) {
    const probe = await probePort(host, port);
    if (probe.state === "taken") {
      process.stderr.write(`Cannot start Workforce: ${portTakenMessage(service, variable, host, port)}\n`);
      return 1;
    }
    if (probe.state === "unavailable") {
      process.stderr.write(`Cannot start Workforce: the ${service} cannot listen on ${host}:${port} (${probe.code}: ${probe.message}). Fix: set ${variable} to an address of this machine and a port you may use.\n`);
      return 1;
    }
  }

  const webDist = path.join(repoRoot, "platform", "web", "dist");
  if (!existsSync(path.join(webDist, "index.html"))) {
    say("building the web app (first start only)…");
    const build = startService("web", process.execPath, [path.join(repoRoot, "node_modules", "vite", "bin", "vite.js"), "build", "--logLevel", "warn"], {
      env: process.env,
      cwd: path.join(repoRoot, "platform", "web"),
      color,
      pretty,
    });
    const code = await build.exited;
    if (code !== 0) {
      complain("The web app failed to build; see the [web] lines above.");
      return 1;
    }
  }
  // The services run as bundles; rebuilt here only when a source changed since `npm install`.
  try {
    await ensureBuilt({ log: say, pgliteTemplate: !config.databaseUrl });
  } catch (error) {
    complain(`Cannot build the services: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  if (!config.databaseUrl) await mkdir(config.pgliteDataDir, { recursive: true, mode: 0o700 });

  const sharedEnv: NodeJS.ProcessEnv = {
    ...process.env,
    TENANT_DATA_DIR: config.tenantDataDir,
    CLAWDBOT_HOOK_TOKEN: config.hookToken,
    CLAWDBOT_GATEWAY_URL: config.gatewayUrl,
  };
  const services: Service[] = [];
  let stopping = false;
  const stopAll = async () => {
    stopping = true;
    // Platform first, so it stops sending work to the gateway.
    for (const service of [...services].reverse()) await stopService(service);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (stopping) return;
      say("stopping…");
      void stopAll().then(() => process.exit(0));
    });
  }

  // Both at once: the platform opens its database while the gateway starts, and waits for it.
  const gateway = startService(
    "gateway",
    process.execPath,
    [GATEWAY_BUNDLE, "run", "--port", String(config.gatewayPort), "--bind", config.gatewayHost],
    { env: sharedEnv, cwd: repoRoot, color, pretty },
  );
  services.push(gateway);
  const platformEnv: NodeJS.ProcessEnv = {
    ...sharedEnv,
    PORT: String(config.port),
    WORKFORCE_OUTBOX_DIR: config.outboxDir,
    WORKFORCE_SECRET_KEY_FILE: config.secretKeyFile,
    ...(config.databaseUrl ? {} : { PGLITE_DATA_DIR: config.pgliteDataDir }),
    WEB_DIST_DIR: webDist,
  };
  const platform = startService("platform", process.execPath, [PLATFORM_BUNDLE], {
    env: platformEnv,
    cwd: repoRoot,
    color,
    pretty,
  });
  services.push(platform);

  const url = `http://localhost:${config.port}`;
  const platformHealthy = waitForHealthy(`http://127.0.0.1:${config.port}/api/health`, platform, 30_000);
  if (!(await waitForHealthy(`${config.gatewayUrl}/`, gateway, 30_000))) {
    complain(`The gateway did not become healthy at ${config.gatewayUrl}/; see the [gateway] lines above.`);
    await stopAll();
    return 1;
  }
  if (!(await platformHealthy)) {
    complain(`The platform did not become healthy at ${url}/api/health; see the [platform] lines above.`);
    await stopAll();
    return 1;
  }
  // Healthy, but answered by whom? A service that has exited lost its port to someone else.
  const lost = services.find((service) => service.child.exitCode !== null || service.child.signalCode !== null);
  if (lost) {
    process.stderr.write(`The ${lost.name} exited during start-up (see the [${lost.name}] lines above); another process may hold its port.\n`);
    await stopAll();
    return 1;
  }
  say(`Workforce is running at ${url}`);
  say(`tenant data: ${config.tenantDataDir}`);
  say(config.databaseUrl ? "database: DATABASE_URL" : `database: embedded PGlite at ${config.pgliteDataDir}`);
  if (!process.env.ANTHROPIC_API_KEY) say("model: offline (set ANTHROPIC_API_KEY to use Claude)");
  if (!config.smtp) say(`mail: no SMTP_URL, so invitations and confirmation links wait in the outbox: ${url}/outbox`);
  say("press Ctrl-C to stop");

  // If either service dies on its own, stop the other and report it.
  const first = await Promise.race(services.map(async (service) => ({ service, code: await service.exited })));
  if (stopping) return 0;
  complain(`${first.service.name} exited unexpectedly (code ${String(first.code)}); stopping.`);
  await stopAll();
  return first.code || 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    complain(`Workforce failed to start: ${error instanceof Error ? error.stack : String(error)}`);
    process.exit(1);
  },
);
