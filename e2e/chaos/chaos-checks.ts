/**
 * The chaos test's verdict (issue 13, item 4), computed from what the simulated users saw, what
 * the fake model was asked, what is on disk after a clean shutdown and what is left in Redis.
 * Each check lists its problems; an empty list passes.
 */
import path from "node:path";
import type { SessionSummary, TranscriptEntry } from "@workforce/protocol";
import { textOfEntry, type DataDirReport, type TranscriptFile } from "../faults/support";
import type { MessageRecord } from "./chat-user";

export interface ChaosChecks {
  /** The first check's problems by kind, for the figures. */
  messages: { lost: string[]; duplicated: string[]; wrongReply: string[] };
  /** Messages that ended run-end ok but are not in their transcript exactly once with exactly one reply (the one streamed). */
  lostOrDuplicated: string[];
  /** Idempotency keys (one message each) that reached the model more than once. */
  executedTwice: string[];
  /** Streams cut mid-run that did not end run_interrupted or resume to their end (run_not_found, stalled, other ends). */
  interruptedBadly: string[];
  /** Registries, journals and transcripts that do not parse or disagree. */
  registries: string[];
  /** *.lock files in the data dir and lease keys in Redis after the clean shutdown. */
  leftovers: string[];
}

type Assistant = Extract<TranscriptEntry, { type: "assistant" }>;

/** The transcript of each (tenant, session key), found by the tenant's directory in its path. */
function transcriptFinder(report: DataDirReport): (tenantId: string, key: string) => TranscriptFile | undefined {
  const cache = new Map<string, TranscriptFile | undefined>();
  return (tenantId, key) => {
    const id = `${tenantId}/${key}`;
    if (!cache.has(id)) cache.set(id, report.transcripts.find((transcript) => transcript.file.includes(`${path.sep}${tenantId}${path.sep}`) && transcript.header.key === key));
    return cache.get(id);
  };
}

function checkMessages(records: readonly MessageRecord[], report: DataDirReport): { lost: string[]; duplicated: string[]; wrongReply: string[] } {
  const transcriptOf = transcriptFinder(report);
  const lost: string[] = [];
  const duplicated: string[] = [];
  const wrongReply: string[] = [];
  for (const record of records) {
    const transcript = transcriptOf(record.tenantId, record.sessionKey);
    const users = (transcript?.entries ?? []).filter((entry) => entry.type === "user" && textOfEntry(entry) === record.text);
    if (users.length > 1) duplicated.push(`"${record.text}" (${record.outcome}) is stored ${users.length} times`);
    if (record.repeatedEvents > 0) duplicated.push(`"${record.text}": ${record.repeatedEvents} events were delivered twice across resumes`);
    if (record.outcome !== "ok") continue;
    if (users.length === 0) {
      lost.push(`"${record.text}" ended ok but is not in its transcript`);
      continue;
    }
    const replies = users.flatMap((user) => transcript!.entries.filter((entry): entry is Assistant => entry.type === "assistant" && entry.parentId === user.id));
    if (replies.length !== 1) (replies.length === 0 ? lost : duplicated).push(`"${record.text}" ended ok but has ${replies.length} replies`);
    else if (replies[0]!.interrupted || textOfEntry(replies[0]!) !== record.reply) wrongReply.push(`"${record.text}" ended ok but its stored reply differs from the streamed one`);
  }
  return { lost, duplicated, wrongReply };
}

function checkExecutions(records: readonly MessageRecord[], modelRequests: ReadonlyMap<string, number>): string[] {
  return records.flatMap((record) => {
    const count = modelRequests.get(record.text) ?? 0;
    return count > 1 ? [`key ${record.idempotencyKey} ("${record.text}") ran ${count} times (runs ${record.runIds.join(", ")}; ${record.trail.join("; ")})`] : [];
  });
}

function checkInterrupted(records: readonly MessageRecord[]): string[] {
  const problems: string[] = [];
  // A stream the platform kept open while its gateway died never drops at the client: a silent
  // one counts whether or not it dropped.
  for (const record of records.filter((each) => each.drops > 0 || each.outcome === "stalled" || each.outcome === "gave-up" || each.notFound > 0)) {
    const why: string[] = [];
    if (record.notFound > 0) why.push(`run_not_found on ${record.notFound} resume(s)`);
    if (record.outcome === "stalled") why.push("the resumed stream went silent (no event, no end)");
    else if (record.outcome === "gave-up") why.push(`never ended (${record.sends} sends, ${record.resumes} resumes)`);
    else if (record.outcome === "failed") why.push(`ended with ${record.code ?? "an error"} instead of run_interrupted`);
    if (why.length > 0) problems.push(`"${record.text}": ${why.join(", ")} [${record.trail.join("; ")}]`);
  }
  return problems;
}

/** sessions.json with its journal applied: the registry a gateway would load. */
function registryOf(report: DataDirReport, sessionsDir: string): Map<string, SessionSummary> {
  const registry = new Map<string, SessionSummary>();
  const file = report.registries.find((each) => path.dirname(each.file) === sessionsDir);
  for (const [key, summary] of Object.entries(file?.sessions ?? {})) registry.set(key, summary);
  const journal = report.journals.find((each) => path.dirname(each.file) === sessionsDir);
  for (const line of journal?.lines ?? []) {
    if (line.op === "put") registry.set(line.session.key, line.session);
    else registry.delete(line.key);
  }
  return registry;
}

function checkRegistries(report: DataDirReport): string[] {
  const problems = [
    ...report.badRegistries.map((file) => `unreadable registry ${file}`),
    ...report.badHeaders.map((file) => `unreadable transcript header ${file}`),
    ...report.lineProblems.map((problem) => `${problem.kind} line ${problem.line} in ${problem.file}`),
    ...report.tempFiles.map((file) => `temporary file left: ${file}`),
  ];
  const sessionsDirs = new Set(report.transcripts.map((transcript) => path.dirname(transcript.file)));
  for (const dir of sessionsDirs) {
    const registry = registryOf(report, dir);
    const transcripts = report.transcripts.filter((transcript) => path.dirname(transcript.file) === dir);
    for (const transcript of transcripts) {
      const summary = registry.get(transcript.header.key);
      const messages = transcript.entries.filter((entry) => entry.type === "user" || entry.type === "assistant").length;
      if (!summary) problems.push(`${transcript.file}: no registry entry for session "${transcript.header.key}"`);
      else if (summary.sessionId !== transcript.header.sessionId) problems.push(`${transcript.file}: registry names session id ${summary.sessionId}`);
      else if (summary.messageCount !== messages) problems.push(`${transcript.file}: registry says ${summary.messageCount} messages, transcript has ${messages}`);
    }
    for (const key of registry.keys()) {
      if (!transcripts.some((transcript) => transcript.header.key === key)) problems.push(`${dir}: registry entry "${key}" has no transcript`);
    }
  }
  return problems;
}

export function chaosChecks(input: { records: readonly MessageRecord[]; report: DataDirReport; modelRequests: ReadonlyMap<string, number>; leaseKeys: readonly string[]; dataDir: string }): ChaosChecks {
  const messages = checkMessages(input.records, input.report);
  return {
    messages,
    lostOrDuplicated: [...messages.lost, ...messages.duplicated, ...messages.wrongReply],
    executedTwice: checkExecutions(input.records, input.modelRequests),
    interruptedBadly: checkInterrupted(input.records),
    registries: checkRegistries(input.report),
    leftovers: [...input.report.lockFiles.map((file) => `lock file ${path.relative(input.dataDir, file)}`), ...input.leaseKeys.map((key) => `Redis key ${key}`)],
  };
}
