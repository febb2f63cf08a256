import { AppError, type ErrorCode } from "@workforce/protocol";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { HTTPException } from "hono/http-exception";
import { storageError } from "../fs/storage-error";
import { errorText, type Logger } from "../logger";
import { isClientAbort } from "./request-input";

/** The gateway's single error handler: every failure becomes `{ error: { code, message } }`. */
export function createErrorHandler(logger: Logger) {
  return (error: Error, c: Context): Response => {
    let appError: AppError;
    if (error instanceof AppError) appError = error;
    else if (error instanceof HTTPException) {
      const code: ErrorCode = error.status === 413 ? "payload_too_large" : error.status === 404 ? "not_found" : "validation_failed";
      appError = new AppError(code, error.message || "the request was rejected", { status: error.status });
    } else if (isClientAbort(error)) {
      // The client hung up mid-request (e.g. during a body the size limit was reading): no gateway fault to log.
      appError = new AppError("validation_failed", "the request was aborted before it was complete");
    } else appError = clientError(error, `${c.req.method} ${c.req.path}`, logger);
    if (appError.headers) for (const [name, value] of Object.entries(appError.headers)) c.header(name, value);
    return c.json(appError.toBody(), appError.status as ContentfulStatusCode);
  };
}

/**
 * What a client is told about a failure, over HTTP and the WebSocket alike: an AppError as it is,
 * a storage failure as its storage code (storage_read_only, storage_full, storage_unavailable),
 * anything else as internal_error. Node's messages name absolute paths and errno codes: they go
 * to the log (`where` says which request), never to the client.
 */
export function clientError(error: unknown, where: string, logger: Logger): AppError {
  if (error instanceof AppError) return error;
  const storage = storageError(error);
  if (storage) {
    logger.warn(`${where}: ${storage.code} (${errorText(error)})`);
    return storage;
  }
  logger.error(`${where} failed`, error);
  return new AppError("internal_error", "the gateway hit an unexpected error; details are in the gateway log");
}
