/** An error from supabase-js (or thrown around it) as the app shows it: GoTrue's code and a sentence. */
export interface AuthErrorDetail {
  code: string | undefined;
  message: string;
  /** This screen's own sentence for the code, shown instead of the general one of `errors/`. */
  sentence?: string;
}

/**
 * What the user should read for the codes whose server message is written for developers. Codes
 * not listed (`rate_limited`, `signup_disabled`, `weak_password`, `email_taken`, field errors)
 * keep the server's own message: it already says what to do, with the numbers.
 */
const HUMAN: Readonly<Record<string, string>> = {
  invalid_credentials: "Wrong email or password.",
  email_not_confirmed: "Confirm your email first: open the link we emailed you, or ask for a new one.",
  otp_expired: "This link or code has expired or was already used.",
  same_password: "That is already your password: choose a different one.",
  session_not_found: "You were signed out. Sign in again.",
  reauthentication_needed: "To change the password of a sign-in this old, enter the code we email you.",
};

/**
 * A readable message for an error from supabase-js. Its message is normally a string, but a
 * server that answers in another error shape can leave an object there, so we dig one level.
 */
export function describeAuthError(error: unknown): AuthErrorDetail {
  if (error && typeof error === "object") {
    const record = error as { name?: unknown; status?: unknown; code?: unknown; message?: unknown; error?: unknown };
    // 502/503/504 arrive without their body: supabase-js reports them as "retryable".
    if (record.name === "AuthRetryableFetchError") {
      return record.status === 0 || record.status === undefined
        ? { code: "network_error", message: "Could not reach the server. Check your connection and try again." }
        : { code: "unavailable", message: "The server could not finish this just now (it may be unable to send email). Try again in a minute." };
    }
    const code = typeof record.code === "string" ? record.code : undefined;
    const human = code ? HUMAN[code] : undefined;
    // The server's words stay for "Details"; the user reads ours.
    if (human) return { code, message: typeof record.message === "string" && record.message !== "" ? record.message : human, sentence: human };
    if (typeof record.message === "string" && record.message !== "") {
      return { code, message: unwrapJsonMessage(record.message) };
    }
    if (record.message && typeof record.message === "object") return describeAuthError(record.message);
    if (record.error && typeof record.error === "object") return describeAuthError(record.error);
  }
  return { code: undefined, message: typeof error === "string" ? error : "Something went wrong. Please try again." };
}

/** `{"error":{"message":"…"}}` serialised into a message string becomes just the inner message. */
function unwrapJsonMessage(message: string): string {
  if (!message.startsWith("{")) return message;
  try {
    const parsed: unknown = JSON.parse(message);
    const inner = describeAuthError(parsed);
    return inner.message;
  } catch {
    return message;
  }
}
