import { AppError } from "@workforce/protocol";

/** Node's network error codes, told the way a reader of the transcript understands them. */
const NETWORK_REASONS: Record<string, string> = {
  ENOTFOUND: "no such host",
  EAI_AGAIN: "its name could not be resolved right now",
  ECONNREFUSED: "the connection was refused",
  ECONNRESET: "the connection was reset",
  ETIMEDOUT: "the connection timed out",
  EHOSTUNREACH: "the host is unreachable",
  ENETUNREACH: "the network is unreachable",
  CERT_HAS_EXPIRED: "its TLS certificate has expired",
  DEPTH_ZERO_SELF_SIGNED_CERT: "its TLS certificate is self-signed",
  ERR_TLS_CERT_ALTNAME_INVALID: "its TLS certificate is for another name",
  UND_ERR_CONNECT_TIMEOUT: "the connection timed out",
};

function networkCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
  }
  return undefined;
}

/** A failed request as a tool error: the guard's refusal and our own errors as they are, anything else as web_fetch_failed. */
export function fetchFailure(error: unknown, host: string, code: "web_fetch_failed" | "web_search_failed" = "web_fetch_failed"): unknown {
  if (error instanceof AppError) return error;
  if (error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError")) return error;
  const known = networkCode(error);
  const reason = (known && NETWORK_REASONS[known]) ?? "the connection failed";
  return new AppError(code, `${host} could not be reached: ${reason}`, { cause: error });
}

/**
 * Runs `task` with a signal that aborts when the run does or after `timeoutMs`; the time limit
 * becomes web_timeout (the run's own abort goes on as it is, ending the run).
 */
export async function withTimeout<T>(runSignal: AbortSignal, timeoutMs: number, message: string, task: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = AbortSignal.any([runSignal, timeout]);
  try {
    return await task(signal);
  } catch (error) {
    if (timeout.aborted && !runSignal.aborted) throw new AppError("web_timeout", message, { cause: error });
    throw error;
  }
}
