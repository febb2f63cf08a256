import type { MailConfig } from "./mail-config";
import type { Mailer } from "./mailer";
import { createOutboxMailer } from "./outbox-mailer";
import { createSmtpMailer } from "./smtp-mailer";

/** The SMTP mailer when SMTP_URL is set, otherwise the local outbox (then mount outboxRoutes at /outbox). */
export function createMailer(config: MailConfig, deps: { logError: (message: string, error: unknown) => void; now: () => Date }): Mailer {
  if (config.smtpUrl !== undefined) return createSmtpMailer({ smtpUrl: config.smtpUrl, from: config.from, logError: deps.logError });
  return createOutboxMailer({ dir: config.outboxDir, from: config.from, now: deps.now, logError: deps.logError });
}
