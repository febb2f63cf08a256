/**
 * The Anthropic provider's two streaming paths side by side (decision 048): the lean node:http one
 * the gateway uses and the official SDK's (taken when a fetch is given), against the fake upstream
 * in a child process, so this process's CPU time is the client's alone.
 *
 *   npx tsx bench/provider-path.ts [--replies 300] [--tokens 20]
 *
 * Interleaved batches (lean, SDK, SDK, lean, …) in one process, after a warm-up; prints CPU time
 * per streamed reply and time to the first text delta, each path's median and the lean/SDK ratio.
 * "burst": the fake writes each reply in one go; "paced": one delta per millisecond, so each SSE
 * event arrives in its own chunk, as from the real API; "paced, concurrent": the same, 10 replies at
 * a time (CPU per reply is the batch's CPU over its replies). Absolute figures depend on the machine
 * and its load; the ratios, measured in the same run, are the result.
 */
import { parseArgs } from "node:util";
import { createAnthropicProvider } from "../gateway/src/llm/adapters/anthropic/anthropic-provider";
import type { ModelProvider, ModelRequest } from "../gateway/src/llm/model-provider";
import { FAKE_API_KEY, startFake } from "./lib/services";
import { fmt, percentile } from "./lib/stats";

const { values } = parseArgs({ options: { replies: { type: "string", default: "300" }, tokens: { type: "string", default: "20" } } });
const replies = Number(values.replies);
const tokens = Number(values.tokens);
const batch = 10;
const text = Array.from({ length: tokens }, (_, index) => `word${index}`).join(" ");

const fake = await startFake({ tokens, text, tokenDelayMs: 0 });
const paths: Record<"lean" | "sdk", ModelProvider> = {
  lean: createAnthropicProvider({ apiKey: FAKE_API_KEY, baseURL: fake.url }),
  sdk: createAnthropicProvider({ apiKey: FAKE_API_KEY, baseURL: fake.url, fetch: (input, init) => fetch(input, init) }),
};

function request(): ModelRequest {
  return {
    model: "claude-fake-1",
    system: "You are a benchmark.",
    messages: [{ role: "user", content: [{ type: "text", text: "Say twenty words." }] }],
    tools: [{ name: "read_file", description: "Read a file", inputSchema: { type: "object", properties: { path: { type: "string" } } } }],
    maxOutputTokens: 256,
    signal: new AbortController().signal,
  };
}

/** One reply: ms to the first text delta; throws unless it streamed `tokens` deltas and finished. */
async function reply(provider: ModelProvider): Promise<number> {
  const started = performance.now();
  let first = -1;
  let deltas = 0;
  let finished = false;
  for await (const part of provider.stream(request())) {
    if (part.type === "text-delta") {
      if (first < 0) first = performance.now() - started;
      deltas += 1;
    } else if (part.type === "finish") finished = true;
  }
  if (deltas !== tokens || !finished) throw new Error(`a reply had ${deltas} deltas (finished: ${finished})`);
  return first;
}

interface Samples {
  cpuUs: number[];
  ttftMs: number[];
}

/** `batch` replies, `concurrency` at a time; their times to the first delta. */
async function repliesAtOnce(provider: ModelProvider, concurrency: number): Promise<number[]> {
  const times: number[] = [];
  for (let done = 0; done < batch; done += concurrency) {
    times.push(...(await Promise.all(Array.from({ length: Math.min(concurrency, batch - done) }, () => reply(provider)))));
  }
  return times;
}

async function measure(mode: string, delayMs: number, concurrency = 1): Promise<void> {
  await fake.configure({ tokens, text, tokenDelayMs: delayMs });
  const samples: Record<"lean" | "sdk", Samples> = { lean: { cpuUs: [], ttftMs: [] }, sdk: { cpuUs: [], ttftMs: [] } };
  for (const name of ["lean", "sdk"] as const) for (let index = 0; index < 30; index += 1) await reply(paths[name]);
  for (let round = 0; round < replies / batch; round += 1) {
    // ABBA order, so drift in the machine's load falls on both paths alike.
    const order = round % 2 === 0 ? (["lean", "sdk"] as const) : (["sdk", "lean"] as const);
    for (const name of order) {
      const before = process.cpuUsage();
      samples[name].ttftMs.push(...(await repliesAtOnce(paths[name], concurrency)));
      const used = process.cpuUsage(before);
      samples[name].cpuUs.push((used.user + used.system) / batch);
    }
  }
  const median = (values: number[]) => percentile(values, 50);
  const row = (name: "lean" | "sdk") => `${name.padEnd(5)} CPU/reply ${fmt(median(samples[name].cpuUs), 0).padStart(6)} µs   TTFT p50 ${fmt(median(samples[name].ttftMs), 3)} ms  p90 ${fmt(percentile(samples[name].ttftMs, 90), 3)} ms`;
  console.log(`\n${mode} (${tokens} deltas per reply, ${replies} replies per path, batches of ${batch}, ${concurrency} at a time, interleaved)`);
  console.log(row("lean"));
  console.log(row("sdk"));
  console.log(
    `lean/SDK: CPU ×${fmt(median(samples.lean.cpuUs) / median(samples.sdk.cpuUs), 2)}, TTFT p50 ×${fmt(median(samples.lean.ttftMs) / median(samples.sdk.ttftMs), 2)} (${fmt(median(samples.sdk.ttftMs) - median(samples.lean.ttftMs), 3)} ms less)`,
  );
}

try {
  await measure("burst", 0);
  await measure("paced", 1);
  await measure("paced, concurrent", 1, batch);
} finally {
  await fake.stop();
}
