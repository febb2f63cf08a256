import { AppError } from "@workforce/protocol";
import type { ModelProvider, ModelStreamPart } from "./model-provider";
import { abortableSleep } from "./abortable-sleep";

export interface RetryPolicy {
  /** Attempts in total, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A retry-after longer than this is not waited for: the run fails instead. */
  maxRetryAfterMs: number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 8_000, maxRetryAfterMs: 60_000 };


/** Parses retry-after (seconds or an HTTP date) into milliseconds. */
export function retryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Retries retryable provider failures (429, 529, 5xx, connection errors) with exponential backoff
 * and jitter, honouring retry-after, but only while nothing has been streamed yet: once a token
 * reached the client a retry would duplicate text, so the failure goes to the run instead.
 */
export function withRetries(provider: ModelProvider, policy: RetryPolicy = DEFAULT_RETRY_POLICY): ModelProvider {
  const sleep = policy.sleep ?? abortableSleep;
  return {
    name: provider.name,
    info: (model) => provider.info(model),
    // Listing is cached by the catalogue, which reads again later; no retries here.
    ...(provider.listModels ? { listModels: provider.listModels } : {}),
    async *stream(request): AsyncGenerator<ModelStreamPart> {
      for (let attempt = 1; ; attempt += 1) {
        let streamed = false;
        try {
          for await (const part of provider.stream(request)) {
            streamed = true;
            yield part;
          }
          return;
        } catch (error) {
          if (streamed || request.signal.aborted || !(error instanceof AppError) || error.retryable !== true || attempt >= policy.maxAttempts) {
            throw error;
          }
          const hinted = retryAfterMs(error.headers?.["retry-after"]);
          if (hinted !== undefined && hinted > policy.maxRetryAfterMs) throw error;
          const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
          await sleep(hinted ?? backoff * (0.5 + Math.random() / 2), request.signal);
        }
      }
    },
  };
}
