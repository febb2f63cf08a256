/**
 * The chaos section of docs/benchmarks.md, between two markers so `npm run chaos -- --write-doc`
 * replaces only it and `npm run bench` (which rewrites the rest of the file) carries it over.
 */
import type { ChaosChecks } from "./chaos-checks";
import type { ChaosFigures } from "./chaos-run";

export const CHAOS_START = "<!-- chaos:start (npm run chaos -- --write-doc) -->";
export const CHAOS_END = "<!-- chaos:end -->";

const verdict = (problems: readonly string[]) => (problems.length === 0 ? "pass" : `**FAIL** (${problems.length})`);

export function renderChaosSection(figures: ChaosFigures, checks: ChaosChecks, at: Date): string {
  const failed = Object.entries(figures.failed).map(([code, count]) => `${count} ${code}`).join(", ") || "none";
  const lines = [
    CHAOS_START,
    "## Chaos: 3 gateways, 2 platforms, a gateway SIGKILLed every few seconds (issue 13)",
    "",
    `Run by \`npm run chaos\` on ${at.toISOString().slice(0, 16).replace("T", " ")} UTC, commit \`${figures.commit}\`, platforms reaching the gateways through ${figures.via === "lb" ? "a round-robin TCP balancer that skips refusing gateways" : "the gateways' membership list in Redis"}. ` +
      `Real Postgres (a fresh database), real Redis (a database index of its own), one shared TENANT_DATA_DIR, the fake model upstream with paced tokens; all on this 2-core machine, shared with other work.`,
    "",
    `${figures.users} users signed up through the platforms, one agent each, chatting for ${figures.durationS} s through either platform; each message carries an idempotency key, a failed send is retried with the same key, a cut stream is resumed with Last-Event-ID or (half of the time) rejoined by sending the message again with the same key. A random gateway was SIGKILLed and restarted every ${figures.killEveryS} s.`,
    "",
    "| messages | completed | kills | restart p50 / max | streams cut mid-run (resumed / re-sent with the key) | of them ended ok | ended run_interrupted | run_not_found on resume | stalled | other errors | gave up | latency p50 / p95 / max |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
    `| ${figures.messages} | ${figures.completed} | ${figures.kills} | ${figures.restartMs.p50} / ${figures.restartMs.max} ms | ${figures.interruptedStreams} (${figures.resumes} resumes / ${figures.rejoins} re-sends) | ${figures.resumedOk} | ${figures.endedRunInterrupted} | ${figures.runNotFound} | ${figures.stalled} | ${failed} | ${figures.gaveUp} | ${figures.latencyMs.p50} / ${figures.latencyMs.p95} / ${figures.latencyMs.max} ms |`,
    "",
    "| check | result |",
    "|---|---|",
    `| completed messages lost / duplicated / reply differs | ${figures.lost} / ${figures.duplicated} / ${figures.wrongReply}: ${verdict(checks.lostOrDuplicated)} |`,
    `| runs executed twice for one idempotency key (model requests per message) | ${figures.executedTwice}: ${verdict(checks.executedTwice)} |`,
    `| cut streams that ended run_interrupted or resumed to their end | ${verdict(checks.interruptedBadly)} |`,
    `| registries consistent with transcripts, every file parses | ${verdict(checks.registries)} |`,
    `| no *.lock file, no lease key left after a clean shutdown | ${verdict(checks.leftovers)} |`,
    "",
    `Latency is from the first send to run-end ok, retries and resumes included. Reproduce: \`npm run chaos\` (\`-- --help\` for the sizes); the short version runs in \`e2e/chaos/chaos.test.ts\`.`,
    CHAOS_END,
  ];
  return lines.join("\n");
}

/** The chaos section of `markdown`, markers included, or undefined. */
export function chaosSectionOf(markdown: string): string | undefined {
  const start = markdown.indexOf(CHAOS_START);
  const end = markdown.indexOf(CHAOS_END);
  return start === -1 || end < start ? undefined : markdown.slice(start, end + CHAOS_END.length);
}

/** `markdown` with its chaos section replaced by `section`, or `section` put before "## How to run" (else at the end). */
export function withChaosSection(markdown: string, section: string): string {
  const existing = chaosSectionOf(markdown);
  if (existing) return markdown.replace(existing, () => section);
  const howTo = markdown.indexOf("\n## How to run");
  if (howTo === -1) return `${markdown.trimEnd()}\n\n${section}\n`;
  return `${markdown.slice(0, howTo)}\n${section}\n${markdown.slice(howTo)}`;
}
