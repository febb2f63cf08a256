import path from "node:path";
import addressparser from "nodemailer/lib/addressparser";
import { parseSmtpUrl } from "./smtp-url";

/** The environment variables mail reads, each with what it means; for docs and the launcher. */
export const MAIL_ENV = {
  SMTP_URL:
    "SMTP server for invitations, email verification, password reset and email-change mails: smtp://user:password@host:587 (STARTTLS) or smtps://user:password@host:465 (TLS); percent-encode special characters in the password. Options: ?requireTLS=true, ?ignoreTLS=true, ?tls.rejectUnauthorized=false. Unset: mails are kept in the local outbox instead, shown at /outbox to this machine only.",
  WORKFORCE_MAIL_FROM: 'From header of every mail (default "Workforce <no-reply@localhost>"); with SMTP_URL, use an address your SMTP server may send from.',
  WORKFORCE_OUTBOX_DIR: "Absolute directory of the local outbox used when SMTP_URL is unset (default ~/.workforce/outbox, next to the embedded database).",
} as const;

export const DEFAULT_MAIL_FROM = "Workforce <no-reply@localhost>";

/** Where mail goes, read once at start-up. */
export interface MailConfig {
  /** SMTP_URL, checked; undefined means the local outbox. */
  smtpUrl: string | undefined;
  /** WORKFORCE_MAIL_FROM. */
  from: string;
  /** WORKFORCE_OUTBOX_DIR, absolute. */
  outboxDir: string;
}

export type MailEnv = Partial<Record<keyof typeof MAIL_ENV, string | undefined>>;
export type MailConfigResult = { ok: true; config: MailConfig } | { ok: false; problems: string[] };

const blankToUndefined = (value: string | undefined) => (value === undefined || value.trim() === "" ? undefined : value.trim());

/**
 * Checks the mail variables; every problem names its variable and the fix, in the same
 * "NAME: message" form as the platform's other configuration problems.
 */
export function readMailConfig(env: MailEnv, homeDir: string): MailConfigResult {
  const problems: string[] = [];

  const smtpUrl = blankToUndefined(env.SMTP_URL);
  if (smtpUrl !== undefined) {
    const parsed = parseSmtpUrl(smtpUrl);
    if (!parsed.ok) problems.push(...parsed.problems);
  }

  const from = blankToUndefined(env.WORKFORCE_MAIL_FROM) ?? DEFAULT_MAIL_FROM;
  const addresses = addressparser(from, { flatten: true });
  const single = addresses.length === 1 && /^[^\s@]+@[^\s@]+$/.test(addresses[0]?.address ?? "");
  if (!single || /[\r\n]/.test(from)) {
    problems.push('WORKFORCE_MAIL_FROM: must be one email address, optionally with a name; e.g. WORKFORCE_MAIL_FROM="Workforce <no-reply@example.com>"');
  }

  const outboxDir = blankToUndefined(env.WORKFORCE_OUTBOX_DIR) ?? path.join(homeDir, ".workforce", "outbox");
  if (!path.isAbsolute(outboxDir)) {
    problems.push("WORKFORCE_OUTBOX_DIR: must be an absolute path (relative paths are resolved differently by each process); e.g. WORKFORCE_OUTBOX_DIR=$HOME/.workforce/outbox");
  }

  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, config: { smtpUrl, from, outboxDir: path.resolve(outboxDir) } };
}
