import type { Role } from "../db/schema";
import type { Mailer } from "../mail/mailer";
import { renderMail } from "../mail/render-mail";
import type { IssuedOneTimeToken } from "./one-time-tokens";

/** GoTrue's verification types, as the web app's `/auth/confirm` page passes them to `verifyOtp`. */
export type VerifyType = "signup" | "recovery" | "email_change";

/**
 * The mails of the account flows, with their links. Links point at the web app (`/auth/confirm`,
 * `/invite/…`) on PUBLIC_URL, never at an origin taken from a request's Host header: the page
 * then calls `verifyOtp({ token_hash, type })`, so a mail scanner that follows links uses nothing.
 */
export function createAccountMail(deps: { mailer: Mailer; publicUrl: string }) {
  const confirmLink = (type: VerifyType, token: string) =>
    `${deps.publicUrl}/auth/confirm?${new URLSearchParams({ token_hash: token, type }).toString()}`;

  return {
    /** Where mail goes: "SMTP host:port" or "outbox <dir>". */
    describe: () => deps.mailer.describe(),
    /** "outbox" when mail is written to the local outbox instead of being sent (no SMTP_URL). */
    delivery: (): "email" | "outbox" => (deps.mailer.describe().startsWith("outbox") ? "outbox" : "email"),
    confirmSignup: (to: string, issued: IssuedOneTimeToken) =>
      deps.mailer.send(renderMail("confirm-signup", { to, link: confirmLink("signup", issued.token), code: issued.code })),
    recovery: (to: string, issued: IssuedOneTimeToken) =>
      deps.mailer.send(renderMail("recovery", { to, link: confirmLink("recovery", issued.token), code: issued.code })),
    emailChange: (to: string, issued: IssuedOneTimeToken) =>
      deps.mailer.send(renderMail("email-change", { to, link: confirmLink("email_change", issued.token), code: issued.code })),
    reauthentication: (to: string, issued: IssuedOneTimeToken) => deps.mailer.send(renderMail("reauthentication", { to, code: issued.code })),
    passwordChanged: (to: string) => deps.mailer.send(renderMail("password-changed", { to })),
    invitation: (to: string, input: { token: string; organisation: string; inviterEmail: string; role: Role }) =>
      deps.mailer.send(
        renderMail("invitation", {
          to,
          link: `${deps.publicUrl}/invite/${encodeURIComponent(input.token)}`,
          organisation: input.organisation,
          inviterEmail: input.inviterEmail,
          role: input.role,
        }),
      ),
  };
}

export type AccountMail = ReturnType<typeof createAccountMail>;
