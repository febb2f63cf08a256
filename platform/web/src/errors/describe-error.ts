import { ERROR_CODES, type ErrorCode } from "@workforce/protocol";
import { formatDay, formatIn } from "../ui/relative-time";
import { CLIENT_ERROR_TEXTS, ERROR_TEXTS, type ErrorText } from "./error-texts";
import { fieldProblems, type FieldProblem } from "./field-messages";

/** An error as it arrives: the stable code and the server's message (for "Details" only). */
export interface ErrorInput {
  code?: string | undefined;
  message: string;
  /** The server's word on whether repeating can work; wins over the code's default. */
  retryable?: boolean | undefined;
  /** Seconds from the Retry-After header, when the answer had one. */
  retryAfterSeconds?: number | undefined;
  /** A sentence the screen wrote itself for this case; shown instead of the code's. */
  sentence?: string | undefined;
}

/** What the user reads: one sentence, one next step, and the raw code and message behind "Details". */
export interface HumanError {
  sentence: string;
  next: string;
  retryable: boolean;
  /** Each bad field of a `validation_failed`, as a readable sentence. */
  fields: FieldProblem[];
  code: string | undefined;
  /** The server's own message, only ever shown inside the "Details" disclosure. */
  details: string;
}

const SERVER_CODES: ReadonlySet<string> = new Set(ERROR_CODES);
const isServerCode = (code: string): code is ErrorCode => SERVER_CODES.has(code);

/** The table entry for a code; codes this app does not know read as a generic failure. */
export function errorText(code: string | undefined, status?: number): ErrorText | undefined {
  if (!code) return undefined;
  if (isServerCode(code)) return ERROR_TEXTS[code];
  if (code in CLIENT_ERROR_TEXTS) return CLIENT_ERROR_TEXTS[code as keyof typeof CLIENT_ERROR_TEXTS];
  const httpStatus = /^http_(\d{3})$/.exec(code)?.[1] ?? (status ? String(status) : undefined);
  if (httpStatus) return Number(httpStatus) >= 500 ? CLIENT_ERROR_TEXTS.http_5xx : CLIENT_ERROR_TEXTS.http_4xx;
  return undefined;
}

/** "try again in 833 seconds" → 833. */
function secondsIn(message: string): number | undefined {
  const match = /\bin (\d+) seconds?\b/i.exec(message);
  return match?.[1] ? Number(match[1]) : undefined;
}

/** The last ISO timestamp in a server message: budget messages end with when sending resumes. */
function lastIsoIn(message: string): number | undefined {
  const matches = message.match(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z/g);
  const last = matches?.[matches.length - 1];
  return last ? Date.parse(last) : undefined;
}

/**
 * Turns any error into what the user reads. The code picks the sentence; numbers worth knowing
 * (when to try again, when a budget resets) are said as relative, localised times; validator text
 * becomes one sentence per field. An error without a code (thrown by this app) keeps its message.
 */
export function describeError(error: ErrorInput, now: number = Date.now()): HumanError {
  const code = error.code;
  const entry = errorText(code);
  const base = {
    code,
    details: error.message,
    fields: code === "validation_failed" || code === "weak_password" ? fieldProblems(error.message) : [],
  };
  if (!entry) {
    return { ...base, sentence: error.sentence ?? error.message, next: "", retryable: error.retryable ?? false };
  }
  // A sentence the screen wrote for the case says what to do too.
  let sentence = error.sentence ?? entry.sentence;
  let next = error.sentence ? "" : entry.next;
  const retryable = error.retryable ?? entry.retry;
  // No Retry-After header (supabase-js, a stream's error event): the server's "in N seconds" says it.
  const retryAfterSeconds = error.retryAfterSeconds ?? secondsIn(error.message);
  const [onlyField] = base.fields;
  if (onlyField && !error.sentence) {
    // One field: its sentence says it all; several: the general sentence, with each field listed below.
    if (base.fields.length === 1) sentence = onlyField.message;
    next = base.fields.length === 1 ? "Correct it and try again." : "Correct these and try again.";
  }
  if (code === "budget_exceeded" && !error.sentence) {
    const resumes = retryable ? undefined : (lastIsoIn(error.message) ?? (retryAfterSeconds ? now + retryAfterSeconds * 1000 : undefined));
    next = retryable
      ? "Other replies are still using the rest of it; try again when they have finished."
      : `${entry.next}${resumes ? ` It resets on ${formatDay(resumes, now)}.` : ""}`;
  } else if (!error.sentence && retryAfterSeconds !== undefined && retryable && retryAfterSeconds > 0) {
    next = `Try again ${formatIn(retryAfterSeconds, now)}.`;
  }
  return { ...base, sentence, next, retryable };
}

/** Whether offering Retry for this error makes sense: the server's flag, else the code's default. */
export function isRetryable(error: { code?: string | undefined; retryable?: boolean | undefined } | undefined): boolean {
  if (!error) return false;
  return error.retryable ?? errorText(error.code)?.retry ?? false;
}
