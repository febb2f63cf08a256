import { APIConnectionError, APIError, APIUserAbortError } from "@anthropic-ai/sdk";
import { AppError } from "@workforce/protocol";

function retryAfter(headers: Headers | undefined): Record<string, string> | undefined {
  const value = headers?.get("retry-after");
  return value ? { "retry-after": value } : undefined;
}

/**
 * Turns an SDK error into an AppError with a specific provider_* code and a message a human can act
 * on. Clients read the message (run-end, transcripts), so it names no endpoint and carries no
 * network or errno text; that stays on `cause` for the gateway log.
 */
export function mapAnthropicError(error: unknown, baseURL: string): unknown {
  if (error instanceof AppError || error instanceof APIUserAbortError) return error;
  if (error instanceof APIConnectionError) {
    return new AppError("provider_unreachable", "cannot reach Anthropic; details are in the gateway log", { retryable: true, cause: new Error(`${baseURL}: ${error.message}`, { cause: error }) });
  }
  if (isApiError(error)) return fromApiError(error);
  return new AppError("provider_error", "the Anthropic stream failed unexpectedly; details are in the gateway log", { retryable: false, cause: error });
}

// A plain instanceof narrows to APIError<any, any, any>; the predicate keeps the declared types.
function isApiError(error: unknown): error is APIError {
  return error instanceof APIError;
}

function fromApiError(error: APIError): AppError {
  const status = error.status;
  const detail = error.message || "no details";
  if (status === 401 || status === 403 || error.type === "authentication_error" || error.type === "permission_error") {
    return new AppError("provider_auth_failed", `Anthropic rejected the API key (${status ?? error.type}); check ANTHROPIC_API_KEY`, { retryable: false, cause: error });
  }
  if (status === 429 || error.type === "rate_limit_error") {
    return new AppError("provider_rate_limited", `Anthropic is rate-limiting this key: ${detail}`, { retryable: true, headers: retryAfter(error.headers), cause: error });
  }
  if (status === 529 || error.type === "overloaded_error") {
    return new AppError("provider_overloaded", "Anthropic is overloaded right now; try again in a moment", { retryable: true, headers: retryAfter(error.headers), cause: error });
  }
  if ((status !== undefined && status >= 500) || error.type === "api_error") {
    return new AppError("provider_error", `Anthropic had an internal error: ${detail}`, { retryable: true, headers: retryAfter(error.headers), cause: error });
  }
  return new AppError("provider_error", `Anthropic refused the request: ${detail}`, { retryable: false, cause: error });
}
