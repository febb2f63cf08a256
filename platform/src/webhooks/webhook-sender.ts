import { AppError } from "@workforce/protocol";

/** What one attempt came to, as the delivery log shows it. */
export interface AttemptOutcome {
  /** 2xx: delivered. */
  ok: boolean;
  /** The answer's status, or null when there was none (refused, unreachable, timed out). */
  statusCode: number | null;
  /** Why it failed, in one line; null when it succeeded. */
  error: string | null;
  /** The start of the answer's body (at most EXCERPT_BYTES), for the log. */
  excerpt: string | null;
  /** How long the receiver asked us to wait (Retry-After), if it did. */
  retryAfterMs?: number;
  /** 410 Gone: the receiver wants no more deliveries (the endpoint is disabled). */
  gone: boolean;
}

export interface WebhookSender {
  /** POSTs one signed body; never throws: every failure is an outcome. */
  send(input: { url: string; headers: Record<string, string>; body: string }): Promise<AttemptOutcome>;
}

/** Bytes of an answer kept for the log; the rest is not read. */
export const EXCERPT_BYTES = 1_024;

const USER_AGENT = "Workforce-Webhooks/1 (+https://www.standardwebhooks.com)";

/** Milliseconds from a Retry-After value (seconds, or an HTTP date), or undefined when it says neither. */
function retryAfterMs(value: string | null, now: Date): number | undefined {
  if (value === null) return undefined;
  if (/^\d{1,9}$/.test(value.trim())) return Number(value.trim()) * 1_000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}

function isControl(character: string): boolean {
  const code = character.charCodeAt(0);
  return (code < 0x20 && character !== "\t" && character !== "\n") || code === 0x7f;
}

/** Reads at most EXCERPT_BYTES of the body and lets go of the rest. */
async function readExcerpt(response: Response): Promise<string | null> {
  if (!response.body) return null;
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < EXCERPT_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // A body cut short still gives what arrived.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const decoded = new TextDecoder("utf-8", { fatal: false }).decode(Buffer.concat(chunks).subarray(0, EXCERPT_BYTES));
  // Control characters other than tabs and newlines would only garble the log.
  const text = [...decoded].filter((character) => !isControl(character)).join("").trim();
  return text === "" ? null : text;
}

/** A failed connection in one line: the guard's refusal as it is, else the network's reason. */
function connectionError(error: unknown, timeoutMs: number): string {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    if (current instanceof AppError) return `${current.code}: ${current.message}`;
    if (current.name === "TimeoutError" || current.name === "AbortError") return `no answer within ${timeoutMs / 1000} s`;
  }
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const code = (cause as { code?: unknown } | null)?.code;
  const message = cause instanceof Error ? cause.message : String(cause);
  return `could not connect${typeof code === "string" ? ` (${code})` : ""}: ${message}`.replace(/\s+/g, " ").slice(0, 500);
}

/**
 * Sends deliveries with `fetch` (the SSRF guard's, decision 030): redirects are not followed (a 3xx
 * is a failure, as the spec recommends: the URL should be updated instead), a whole attempt takes
 * at most `timeoutMs`, and only the first KiB of an answer is read.
 */
export function createWebhookSender(options: { fetch: typeof fetch; timeoutMs: number; now: () => Date }): WebhookSender {
  return {
    async send({ url, headers, body }) {
      let response: Response;
      try {
        response = await options.fetch(url, {
          method: "POST",
          headers: { ...headers, "content-type": "application/json", "user-agent": USER_AGENT },
          body,
          redirect: "manual",
          signal: AbortSignal.timeout(options.timeoutMs),
        });
      } catch (error) {
        return { ok: false, statusCode: null, error: connectionError(error, options.timeoutMs), excerpt: null, gone: false };
      }
      const excerpt = await readExcerpt(response);
      const status = response.status;
      if (status >= 200 && status < 300) return { ok: true, statusCode: status, error: null, excerpt, gone: false };
      const location = response.headers.get("location");
      const error =
        status >= 300 && status < 400
          ? `answered ${status}${location ? ` (a redirect to ${location.slice(0, 200)})` : ""}: webhooks do not follow redirects, change the endpoint's URL`
          : status === 410
            ? "answered 410 Gone: the receiver wants no more deliveries"
            : `answered ${status}`;
      const wait = retryAfterMs(response.headers.get("retry-after"), options.now());
      return { ok: false, statusCode: status, error, excerpt, gone: status === 410, ...(wait === undefined ? {} : { retryAfterMs: wait }) };
    },
  };
}
