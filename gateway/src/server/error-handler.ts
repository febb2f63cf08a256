import { AppError, type ErrorCode } from "@workforce/protocol";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { HTTPException } from "hono/http-exception";
import { errnoCode } from "../fs/errno";
import type { Logger } from "../logger";

/** File-system failures that are the operator's to fix get a specific code instead of a bare 500. */
function fromStorageError(error: unknown): AppError | undefined {
  switch (errnoCode(error)) {
    case "EROFS":
      return new AppError("storage_read_only", "TENANT_DATA_DIR is on a read-only file system; see the gateway log");
    case "ENOSPC":
    case "EDQUOT":
      return new AppError("storage_full", "the disk holding TENANT_DATA_DIR is full");
    case "EACCES":
    case "EPERM":
      return new AppError("storage_unavailable", "the gateway may not write to TENANT_DATA_DIR; check its owner and permissions");
    default:
      return undefined;
  }
}

/** The gateway's single error handler: every failure becomes `{ error: { code, message } }`. */
export function createErrorHandler(logger: Logger) {
  return (error: Error, c: Context): Response => {
    let appError: AppError;
    if (error instanceof AppError) appError = error;
    else if (error instanceof HTTPException) {
      const code: ErrorCode = error.status === 413 ? "payload_too_large" : error.status === 404 ? "not_found" : "validation_failed";
      appError = new AppError(code, error.message || "the request was rejected", { status: error.status });
    } else {
      const storage = fromStorageError(error);
      logger.error(`${c.req.method} ${c.req.path} failed`, error);
      appError = storage ?? new AppError("internal_error", "the gateway hit an unexpected error; details are in the gateway log");
    }
    if (appError.headers) for (const [name, value] of Object.entries(appError.headers)) c.header(name, value);
    return c.json(appError.toBody(), appError.status as ContentfulStatusCode);
  };
}
