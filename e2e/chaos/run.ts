/**
 * `npm run chaos`: the full chaos run of issue 13 (3 gateways, 2 platforms, 50 users for 60 s,
 * a gateway SIGKILLed every 5 s). Prints the figures and every check's problems as JSON, writes
 * the section of docs/benchmarks.md with --write-doc, and exits 1 when a check fails.
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { killAllServices, repoRoot } from "../../bench/lib/services";
import { renderChaosSection, withChaosSection } from "./chaos-doc";
import { runChaos } from "./chaos-run";

const USAGE = `npm run chaos -- [--users 50] [--duration-seconds 60] [--kill-every-seconds 5] [--via lb|membership]
  [--seed 13] [--think-ms 500-2000] [--tokens 20] [--token-delay-ms 25] [--stall-seconds 45] [--lease-grace-seconds 30]
  [--postgres-url postgresql://postgres@127.0.0.1:5432/test] [--redis-url redis://127.0.0.1:6379] [--write-doc] [--output file.json]
--via lb: platforms reach the gateways through a round-robin TCP balancer (CLAWDBOT_GATEWAY_URL);
--via membership: platforms also get REDIS_URL, for routing over the gateways' membership list.
A database is created on the Postgres (and dropped after), an empty Redis database index is claimed (and emptied after).`;

function parse(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      users: { type: "string", default: "50" },
      "duration-seconds": { type: "string", default: "60" },
      "kill-every-seconds": { type: "string", default: "5" },
      via: { type: "string", default: "membership" },
      seed: { type: "string", default: "13" },
      "think-ms": { type: "string", default: "500-2000" },
      tokens: { type: "string", default: "20" },
      "token-delay-ms": { type: "string", default: "25" },
      "stall-seconds": { type: "string", default: "45" },
      "lease-grace-seconds": { type: "string", default: "30" },
      "postgres-url": { type: "string", default: process.env.CHAOS_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/test" },
      "redis-url": { type: "string", default: process.env.CHAOS_REDIS_URL ?? "redis://127.0.0.1:6379" },
      "write-doc": { type: "boolean", default: false },
      output: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  const number = (name: keyof typeof values) => {
    const value = Number(values[name]);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number\n${USAGE}`);
    return value;
  };
  const think = /^(\d+)-(\d+)$/.exec(values["think-ms"]);
  if (!think) throw new Error(`--think-ms must be like 500-2000\n${USAGE}`);
  if (values.via !== "lb" && values.via !== "membership") throw new Error(`--via must be lb or membership\n${USAGE}`);
  return {
    help: values.help,
    writeDoc: values["write-doc"],
    output: values.output,
    options: {
      users: number("users"),
      durationMs: number("duration-seconds") * 1000,
      killEveryMs: number("kill-every-seconds") * 1000,
      via: values.via,
      seed: number("seed"),
      thinkMs: [Number(think[1]), Number(think[2])] as [number, number],
      tokens: number("tokens"),
      tokenDelayMs: number("token-delay-ms"),
      stallMs: number("stall-seconds") * 1000,
      leaseGraceMs: number("lease-grace-seconds") * 1000,
      postgresUrl: values["postgres-url"],
      redisUrl: values["redis-url"],
      log: (line: string) => console.log(`[chaos] ${line}`),
    },
  } as const;
}

const args = parse(process.argv.slice(2));
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
process.once("SIGINT", () => {
  killAllServices();
  process.exit(130);
});
const result = await runChaos({ ...args.options });
const failing = Object.entries(result.checks).filter(([name, problems]) => name !== "messages" && Array.isArray(problems) && problems.length > 0);
const summary = {
  figures: result.figures,
  checks: Object.fromEntries(Object.entries(result.checks).filter(([name]) => name !== "messages").map(([name, problems]) => [name, { pass: (problems as string[]).length === 0, problems: (problems as string[]).slice(0, 20), total: (problems as string[]).length }])),
};
console.log(JSON.stringify(summary, null, 2));
if (args.output) await writeFile(args.output, JSON.stringify({ ...summary, records: result.records }, null, 2));
if (args.writeDoc) {
  const file = path.join(repoRoot, "docs", "benchmarks.md");
  await writeFile(file, withChaosSection(await readFile(file, "utf8"), renderChaosSection(result.figures, result.checks, new Date())));
  console.log(`[chaos] wrote the chaos section of ${path.relative(repoRoot, file)}`);
}
console.log(failing.length === 0 ? "[chaos] every check passed" : `[chaos] failing: ${failing.map(([name]) => name).join(", ")}`);
process.exit(failing.length === 0 ? 0 : 1);
