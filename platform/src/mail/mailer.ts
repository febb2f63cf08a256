import { AppError } from "@workforce/protocol";

/** One email, ready to send: both a plain-text and an HTML version, for one recipient. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/**
 * Where the platform's emails go: an SMTP server, or the local outbox when none is configured.
 * Built once at start-up and handed to whatever sends mail.
 */
export interface Mailer {
  /** Resolves once the mail is accepted (by the SMTP server, or on disk); rejects with an AppError. */
  send(message: MailMessage): Promise<void>;
  /** Where mail goes, for logs and the launcher: "SMTP smtp.example.com:587". Never holds credentials. */
  describe(): string;
  /** Releases connections; the mailer is not used afterwards. */
  close(): Promise<void>;
}

/**
 * One plain address and nothing else: a comma, semicolon or angle bracket would let one
 * "address" fan out to several recipients or smuggle in a display name.
 */
const SINGLE_ADDRESS = /^[^\s@,;:<>"()[\]\\]+@[^\s@,;:<>"()[\]\\]+$/;

/** The headers every platform mail carries; RFC 3834 asks auto-responders not to answer it. */
const AUTOMATED_HEADERS = { "Auto-Submitted": "auto-generated" };

/** The nodemailer message for a MailMessage; refuses a recipient that is not exactly one address. */
export function toMailOptions(message: MailMessage, from: string) {
  if (!SINGLE_ADDRESS.test(message.to)) {
    throw new AppError("validation_failed", "The email could not be sent: the recipient must be a single email address");
  }
  return { from, to: message.to, subject: message.subject, text: message.text, html: message.html, headers: AUTOMATED_HEADERS };
}
