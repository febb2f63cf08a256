import { ApiErrorBody } from "@workforce/protocol";

/** An error from the platform API, carrying the stable `code` of `{ error: { code, message } }`. */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly retryable: boolean | undefined;
  /** Seconds from the answer's Retry-After header, when it had one. */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: string, message: string, status = 0, retryable?: boolean, retryAfterSeconds?: number) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.status = status;
    this.retryable = retryable;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** Turns a non-2xx response into an ApiError, whatever its body looks like. */
export async function errorFromResponse(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => "");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = ApiErrorBody.safeParse(json);
  const retryAfter = Number(response.headers.get("retry-after") ?? Number.NaN);
  const retryAfterSeconds = Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : undefined;
  if (parsed.success) {
    const { code, message, retryable } = parsed.data.error;
    return new ApiError(code, message, response.status, retryable, retryAfterSeconds);
  }
  const fallback = text.trim().slice(0, 300) || response.statusText || "request failed";
  return new ApiError(`http_${response.status}`, `HTTP ${response.status}: ${fallback}`, response.status);
}

/** A fetch that never reached the server (offline, DNS, connection reset). */
export function networkError(error: unknown): ApiError {
  const detail = error instanceof Error ? error.message : String(error);
  return new ApiError("network_error", `Could not reach the server (${detail}).`, 0, true);
}

/** An error as screens keep it for ErrorMessage: the code, the server's message, and what says whether to retry. */
export interface ShownError {
  code: string;
  message: string;
  retryable?: boolean | undefined;
  retryAfterSeconds?: number | undefined;
}

/** Any thrown value as a ShownError for display. */
export function toErrorDetail(error: unknown): ShownError {
  if (error instanceof ApiError) {
    return {
      code: error.code,
      message: error.message,
      ...(error.retryable === undefined ? {} : { retryable: error.retryable }),
      ...(error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds }),
    };
  }
  if (error instanceof Error) return { code: "client_error", message: error.message };
  return { code: "client_error", message: String(error) };
}
