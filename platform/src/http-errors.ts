import { AppError, describeZodError, ERROR_CODES, type ApiErrorBody, type ErrorCode } from "@workforce/protocol";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";

const STATUS_CODES: Partial<Record<number, ErrorCode>> = {
  400: "validation_failed",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  409: "conflict",
  413: "payload_too_large",
  429: "rate_limited",
};

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && (ERROR_CODES as readonly string[]).includes(value);
}

/** Socket errors, and Postgres SQLSTATEs for "the server is going away or refuses connections". */
const CONNECTION_ERROR_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "EPIPE", "57P01", "57P02", "57P03", "53300"]);
const CONNECTION_ERROR_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|PGlite is closed/i;

/** Whether an error (or its cause) says the database cannot be reached, rather than that a query was wrong. */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error) || depth > 4) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && (CONNECTION_ERROR_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
  if (CONNECTION_ERROR_MESSAGES.test(error.message)) return true;
  if (error instanceof AggregateError && error.errors.some((inner) => isDatabaseUnavailable(inner, depth + 1))) return true;
  return isDatabaseUnavailable(error.cause, depth + 1);
}

/** Turns anything thrown in a handler into an AppError; unknown failures become internal_error. */
export function toAppError(error: unknown, log: (message: string, error: unknown) => void): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof z.ZodError) return new AppError("validation_failed", describeZodError(error));
  if (isDatabaseUnavailable(error)) {
    log("database unavailable", error instanceof Error ? error.message : error);
    return new AppError("database_unavailable", "The database is not reachable; try again shortly", { retryable: true, headers: { "retry-after": "5" } });
  }
  if (error instanceof HTTPException) {
    const code = STATUS_CODES[error.status] ?? "internal_error";
    return new AppError(code, error.message || code.replace(/_/g, " "), { status: error.status });
  }
  log("unhandled error", error);
  return new AppError("internal_error", "Something went wrong on the server; the error was logged");
}

/**
 * The one error response. `/auth/v1` answers also carry GoTrue's fields (`code`, `error_code`,
 * `msg`) so @supabase/supabase-js surfaces the same code and message to the web app.
 */
export function errorResponse(c: Context, error: AppError): Response {
  const body: ApiErrorBody & Record<string, unknown> = error.toBody();
  if (c.req.path.startsWith("/auth/v1")) {
    Object.assign(body, { code: error.code, error_code: error.code, msg: error.message });
    if (error.code === "weak_password") Object.assign(body, { weak_password: { reasons: ["length"] } });
    c.header("X-Supabase-Api-Version", "2024-01-01");
  }
  for (const [name, value] of Object.entries(error.headers ?? {})) c.header(name, value);
  return c.json(body, error.status as 400);
}
