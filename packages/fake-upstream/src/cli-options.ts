import { parseArgs } from "node:util";
import { z } from "zod";
import type { FakeUpstreamOptions } from "./fake-upstream";

/** Usage text printed by `--help` and on bad arguments. */
export const cliUsage = `Usage: tsx packages/fake-upstream/src/cli.ts [options]

  --port <n>        port to listen on (default 4010; 0 picks a free one)
  --host <addr>     interface to bind (default 127.0.0.1)
  --tokens <n>      deltas per reply (default: one per word)
  --delay-ms <n>    delay before each delta (default 0: whole response at once)
  --text <text>     fixed reply text (default: "Echo: <last user text>")
  --api-key <key>   the only accepted API key (default test-key)
  --any-key         accept any non-empty API key
  --record          keep every request in memory (off by default so long benchmarks stay flat)
  --help            show this text`;

const cliSchema = z.object({
  port: z.coerce.number().int().min(0).max(65_535).default(4010),
  host: z.string().min(1).default("127.0.0.1"),
  tokens: z.coerce.number().int().min(1).optional(),
  "delay-ms": z.coerce.number().min(0).default(0),
  text: z.string().optional(),
  "api-key": z.string().min(1).default("test-key"),
  "any-key": z.boolean().default(false),
  record: z.boolean().default(false),
  help: z.boolean().default(false),
});

/** Parsed command line: server options, or a request for help. */
export type CliCommand = { kind: "help" } | { kind: "start"; options: FakeUpstreamOptions };

/** Parses CLI arguments; throws an Error naming every bad flag. */
export function parseCliOptions(argv: readonly string[]): CliCommand {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      port: { type: "string" },
      host: { type: "string" },
      tokens: { type: "string" },
      "delay-ms": { type: "string" },
      text: { type: "string" },
      "api-key": { type: "string" },
      "any-key": { type: "boolean" },
      record: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  const parsed = cliSchema.safeParse(values);
  if (!parsed.success) {
    throw new Error(parsed.error.issues.map((issue) => `--${issue.path.join(".")}: ${issue.message}`).join("\n"));
  }
  const flags = parsed.data;
  if (flags.help) return { kind: "help" };
  return {
    kind: "start",
    options: {
      port: flags.port,
      host: flags.host,
      tokens: flags.tokens,
      tokenDelayMs: flags["delay-ms"],
      text: flags.text,
      apiKey: flags["any-key"] ? null : flags["api-key"],
      recordRequests: flags.record,
    },
  };
}
