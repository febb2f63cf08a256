import { AppError } from "@workforce/protocol";
import type { Transporter } from "nodemailer";
import { toMailOptions, type Mailer } from "./mailer";
import { describeSmtp, parseSmtpUrl } from "./smtp-url";

/** How long each phase of talking to the SMTP server may take, in milliseconds. */
export interface SmtpTimeouts {
  /** TCP (and TLS) connect, DNS included. */
  connection: number;
  /** The server's first line after connecting. */
  greeting: number;
  /** Silence on an open connection. */
  socket: number;
}

/** Short enough that a sign-up request fails with a clear error rather than hanging; long enough for a slow relay. */
export const DEFAULT_SMTP_TIMEOUTS: SmtpTimeouts = { connection: 10_000, greeting: 10_000, socket: 30_000 };

export interface SmtpMailerOptions {
  /** SMTP_URL, already checked with parseSmtpUrl at start-up. */
  smtpUrl: string;
  /** The From header, e.g. "Workforce <no-reply@example.com>". */
  from: string;
  /** Where failed sends are reported, with detail but never the password. */
  logError: (message: string, error: unknown) => void;
  timeouts?: Partial<SmtpTimeouts>;
}

/** Nodemailer's error codes, grouped by what the operator or the user should do about them. */
const UNREACHABLE = new Set(["ECONNECTION", "ETIMEDOUT", "ESOCKET", "EDNS", "ECONNREFUSED", "ECONNRESET", "EPROXY"]);
const LOGIN_REFUSED = new Set(["EAUTH", "ENOAUTH"]);

interface SmtpFailure {
  code?: unknown;
  /** Node's own code under nodemailer's ESOCKET, e.g. CERT_HAS_EXPIRED or ERR_SSL_WRONG_VERSION_NUMBER. */
  originalCode?: unknown;
  /** Which timeout fired, for ETIMEDOUT: CONNECT_TIMEOUT, GREETING_TIMEOUT… */
  timeoutType?: unknown;
  command?: unknown;
  responseCode?: unknown;
  response?: unknown;
  message?: unknown;
}

/** What the client is told: why, in words, and whether trying again later may help. */
function explain(failure: SmtpFailure): { reason: string; retryable: boolean } {
  const code = typeof failure.code === "string" ? failure.code : "";
  const originalCode = typeof failure.originalCode === "string" ? failure.originalCode : "";
  if (/CERT|SELF_SIGNED|UNABLE_TO_(VERIFY|GET_ISSUER)/.test(originalCode)) {
    return {
      reason: "the mail server's TLS certificate was not accepted (the operator should renew it, or add ?tls.rejectUnauthorized=false to SMTP_URL for an internal relay)",
      retryable: false,
    };
  }
  if (originalCode.startsWith("ERR_SSL") || code === "ETLS") {
    return { reason: "TLS with the mail server failed (the operator should check smtp:// or smtps:// and the port in SMTP_URL)", retryable: false };
  }
  if (failure.timeoutType === "GREETING_TIMEOUT") {
    return { reason: "the mail server did not answer (if it expects TLS from the start, as on port 465, SMTP_URL should start with smtps://)", retryable: true };
  }
  if (LOGIN_REFUSED.has(code)) return { reason: "the mail server refused the login (the operator should check the user and password in SMTP_URL)", retryable: false };
  if (UNREACHABLE.has(code)) return { reason: "the mail server could not be reached; try again shortly", retryable: true };
  if (code === "EENVELOPE") return { reason: "the mail server refused the sender or recipient address", retryable: false };
  const status = typeof failure.responseCode === "number" ? failure.responseCode : 0;
  if (status >= 400 && status < 500) return { reason: "the mail server deferred the message; try again shortly", retryable: true };
  return { reason: "the mail server refused the message", retryable: false };
}

/** Replaces the password (raw and percent-encoded) wherever a server or library might echo it. */
function redactor(password: string | undefined): (text: string) => string {
  // A very short password would match inside ordinary words and garble the log without protecting anything.
  if (!password || password.length < 4) return (text) => text;
  const forms = [...new Set([password, encodeURIComponent(password), Buffer.from(password).toString("base64")])];
  return (text) => forms.reduce((result, form) => result.split(form).join("***"), text);
}

/** Sends mail through the SMTP server in SMTP_URL, one connection per message. */
export function createSmtpMailer(options: SmtpMailerOptions): Mailer {
  const parsed = parseSmtpUrl(options.smtpUrl);
  if (!parsed.ok) throw new Error(`Invalid mail configuration: ${parsed.problems.join("; ")}`);
  const { settings } = parsed;
  const timeouts = { ...DEFAULT_SMTP_TIMEOUTS, ...options.timeouts };
  const description = describeSmtp(settings);
  const redact = redactor(settings.auth?.pass);

  // nodemailer (~0.65 MB of code) loads with the first mail, not with the platform (issue 17: idle RSS, start-up).
  let opened: Promise<Transporter> | undefined;
  const transport = () => (opened ??= import("nodemailer").then(({ default: nodemailer }) => nodemailer.createTransport({
    host: settings.host,
    port: settings.port,
    secure: settings.secure,
    ...(settings.auth ? { auth: { user: settings.auth.user, pass: settings.auth.pass } } : {}),
    requireTLS: settings.requireTLS,
    ignoreTLS: settings.ignoreTLS,
    tls: { rejectUnauthorized: settings.rejectUnauthorized },
    connectionTimeout: timeouts.connection,
    dnsTimeout: timeouts.connection,
    greetingTimeout: timeouts.greeting,
    socketTimeout: timeouts.socket,
    // Our messages never attach files or URLs; refuse them outright should one ever slip in.
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
  })));

  return {
    async send(message) {
      const mail = toMailOptions(message, options.from);
      try {
        await (await transport()).sendMail(mail);
      } catch (error) {
        const failure: SmtpFailure = typeof error === "object" && error !== null ? error : { message: String(error) };
        const { reason, retryable } = explain(failure);
        options.logError(`mail to ${message.to} ("${message.subject}") via ${description} failed`, {
          code: failure.code,
          originalCode: failure.originalCode,
          command: failure.command,
          responseCode: failure.responseCode,
          response: typeof failure.response === "string" ? redact(failure.response) : undefined,
          message: redact(String(failure.message)),
        });
        throw new AppError("mail_unavailable", `The email could not be sent: ${reason}`, { retryable });
      }
    },
    describe: () => description,
    async close() {
      if (opened) (await opened).close();
    },
  };
}
