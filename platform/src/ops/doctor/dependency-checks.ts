import net from "node:net";
import tls from "node:tls";
import { errorText, fail, pass, skip, warn, type CheckResult, type DoctorContext } from "./doctor-check";
import type { DoctorSettings } from "./doctor-settings";

/** One RESP command as an array of bulk strings (what every Redis accepts). */
const resp = (...parts: string[]) => `*${parts.length}\r\n${parts.map((part) => `$${Buffer.byteLength(part)}\r\n${part}\r\n`).join("")}`;

/**
 * REDIS_URL, when set, answers PING (after AUTH when the URL carries a password). Spoken in
 * plain RESP over a socket: the platform has no Redis client, and a PING needs none.
 */
export async function checkRedis(context: DoctorContext, settings: DoctorSettings): Promise<CheckResult> {
  const name = "redis";
  if (!settings.redisUrl) return skip(name, "REDIS_URL is not set (the gateways relay no runs)");
  let url: URL;
  try {
    url = new URL(settings.redisUrl);
  } catch {
    return fail(name, "REDIS_URL is not a URL", "set REDIS_URL=redis://host:6379 (rediss:// for TLS)");
  }
  const where = `${url.hostname}:${url.port || 6379}`;
  const commands = url.password ? [resp("AUTH", ...(url.username ? [decodeURIComponent(url.username)] : []), decodeURIComponent(url.password)), resp("PING")] : [resp("PING")];
  try {
    const replies = await exchange(url, commands, context.timeoutMs);
    const last = replies.at(-1) ?? "";
    // A refused AUTH fails the gateway's client even when this server would answer PING without it.
    const refusal = replies.find((reply) => reply.startsWith("-"));
    if (refusal === undefined && last.startsWith("+PONG")) return pass(name, `${where} answers PING`);
    if (refusal !== undefined && /NOAUTH|WRONGPASS|invalid password|AUTH/i.test(refusal)) {
      return fail(name, `${where} refuses the credentials: ${refusal.slice(1).trim()}`, "put Redis's password (and user) in REDIS_URL: redis://:password@host:6379 — the same for every gateway");
    }
    return fail(name, `${where} answered ${JSON.stringify((refusal ?? last).trim())} instead of PONG`, "check that REDIS_URL points at a Redis server");
  } catch (error) {
    return fail(name, `cannot reach Redis at ${where}: ${errorText(error)}`, "start Redis, or correct host and port in REDIS_URL; unset REDIS_URL to run one gateway without the relay");
  }
}

function exchange(url: URL, commands: string[], timeoutMs: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const port = Number(url.port || 6379);
    const socket = url.protocol === "rediss:" ? tls.connect({ host: url.hostname, port, servername: url.hostname }) : net.connect({ host: url.hostname, port });
    let buffer = "";
    const timer = setTimeout(() => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    socket.on(url.protocol === "rediss:" ? "secureConnect" : "connect", () => socket.write(commands.join("")));
    socket.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split("\r\n").filter((line) => line !== "");
      if (lines.length >= commands.length) {
        clearTimeout(timer);
        socket.end();
        resolve(lines);
      }
    });
    socket.on("error", (error: Error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/**
 * The model provider's key, with the cheapest call there is (listing models costs no tokens).
 * Skipped without a key (the offline model answers) and when the provider cannot be reached
 * (an offline machine is not a misconfiguration).
 */
export async function checkProviderKeys(context: DoctorContext, settings: DoctorSettings): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  if (!settings.anthropic && !settings.openai) return [skip("model provider key", "no ANTHROPIC_API_KEY or OPENAI_API_KEY: agents answer with the offline model")];
  if (settings.anthropic) {
    const { apiKey, baseUrl } = settings.anthropic;
    results.push(
      await probeKey(context, "anthropic key", `${baseUrl.replace(/\/+$/, "")}/v1/models?limit=1`, { "x-api-key": apiKey, "anthropic-version": "2023-06-01" }, "ANTHROPIC_API_KEY"),
    );
  }
  if (settings.openai) {
    const { apiKey, baseUrl } = settings.openai;
    results.push(await probeKey(context, "openai-compatible key", `${baseUrl.replace(/\/+$/, "")}/models`, { authorization: `Bearer ${apiKey}` }, "OPENAI_API_KEY"));
  }
  return results;
}

async function probeKey(context: DoctorContext, name: string, url: string, headers: Record<string, string>, variable: string): Promise<CheckResult> {
  const origin = new URL(url).origin;
  let response: Response;
  try {
    response = await context.fetch(url, { headers, signal: AbortSignal.timeout(context.timeoutMs) });
    await response.body?.cancel();
  } catch (error) {
    return skip(name, `${origin} cannot be reached from here (offline?): ${errorText(error)}`);
  }
  if (response.ok) return pass(name, `${origin} accepts ${variable}`);
  if (response.status === 401 || response.status === 403) {
    return fail(name, `${origin} rejects ${variable} (HTTP ${response.status}): every run with this provider would fail`, `put a valid key in ${variable} (from the provider's console) for the gateway, then restart it`);
  }
  return warn(name, `${origin} answered the key check with HTTP ${response.status}`, `check the provider's status page, and that the base URL of ${variable}'s provider is right`);
}
