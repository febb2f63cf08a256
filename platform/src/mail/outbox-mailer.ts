import { AppError } from "@workforce/protocol";
import type { Transporter } from "nodemailer";
import { toMailOptions, type Mailer } from "./mailer";
import { newOutboxId, writeOutboxMail } from "./outbox-store";

export interface OutboxMailerOptions {
  /** WORKFORCE_OUTBOX_DIR: created (mode 0700) on the first mail. */
  dir: string;
  /** The From header the .eml files carry. */
  from: string;
  now: () => Date;
  /** Where the path and errno of a failed write go; the client is told only that it failed. */
  logError?: (message: string, error: unknown) => void;
}

/**
 * Keeps each mail in a local directory instead of sending it, for installs without SMTP_URL: a
 * standard .eml that opens in any mail client, and a JSON sidecar for the outbox page.
 * Several platform processes may share the directory.
 */
export function createOutboxMailer(options: OutboxMailerOptions): Mailer {
  // The stream transport builds the exact message SMTP would carry, with CRLF line ends as RFC 5322 wants.
  // nodemailer loads with the first mail, not with the platform (issue 17).
  let opened: Promise<Transporter> | undefined;
  const composer = () =>
    (opened ??= import("nodemailer").then(({ default: nodemailer }) =>
      nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "windows", disableFileAccess: true, disableUrlAccess: true }),
    ));

  return {
    async send(message) {
      const mail = toMailOptions(message, options.from);
      const createdAt = options.now();
      const id = newOutboxId(createdAt);
      try {
        const { message: eml } = (await (await composer()).sendMail({ ...mail, date: createdAt })) as { message: unknown };
        if (!Buffer.isBuffer(eml)) throw new Error("nodemailer returned a stream where a buffer was asked for");
        await writeOutboxMail(options.dir, { id, to: message.to, subject: message.subject, text: message.text, html: message.html, createdAt: createdAt.toISOString() }, eml);
      } catch (error) {
        options.logError?.(`could not write a mail to the outbox ${options.dir}`, error);
        throw new AppError("mail_unavailable", "The email could not be saved to the server's local outbox; the operator can find why in the platform's log", { cause: error });
      }
    },
    describe: () => `outbox ${options.dir}`,
    async close() {
      if (opened) (await opened).close();
    },
  };
}
