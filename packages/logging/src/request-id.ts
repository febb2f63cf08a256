import { randomUUID } from "node:crypto";

export const REQUEST_ID_HEADER = "X-Request-Id";

/**
 * A caller's id is kept only when it is short and plain (letters, digits, `-_.:`), so it cannot
 * forge log lines, smuggle a header, or bloat every line of the request.
 */
const ACCEPTED = /^[A-Za-z0-9._:-]{1,128}$/;

/** The incoming X-Request-Id when it is safe to log and pass on; a new UUID otherwise. */
export function requestIdFrom(header: string | undefined, newId: () => string = randomUUID): string {
  return header !== undefined && ACCEPTED.test(header) ? header : newId();
}
