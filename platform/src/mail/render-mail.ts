import { z } from "zod";
import { escapeHtml } from "./escape-html";
import type { MailMessage } from "./mailer";

const PRODUCT = "Workforce";

/** One address, no spaces or line breaks: it is printed inside sentences and headers. */
const Address = z.string().trim().max(320).regex(/^[^\s@]+@[^\s@]+$/, "must be an email address");
/**
 * The absolute link the mail points at; only http(s), so no `javascript:` can reach an href.
 * Any host: `z.httpUrl()` wants a domain name, which refused PUBLIC_URL=http://localhost:3000 and IPs.
 */
const Link = z.url({ protocol: /^https?$/, message: "must be an absolute http(s) URL" });
/** The one-time code GoTrue sends beside the link (`{{ .Token }}`), for typing in instead of clicking. */
const Code = z.string().regex(/^\d{6}$/, "must be 6 digits");
/** A name shown inside a sentence: one line, whatever the user typed. */
const Name = z
  .string()
  .transform((value) => value.replace(/\s+/g, " ").trim())
  .pipe(z.string().min(1, "must not be empty").max(200));

const LinkAndCode = z.object({ to: Address, link: Link, code: Code });

/** What each kind of mail needs; the lead's flows build these from GoTrue-style tokens. */
export const MailParamsSchemas = {
  /** Verify the address a new account signed up with. */
  "confirm-signup": LinkAndCode,
  /** Reset a forgotten password. */
  recovery: LinkAndCode,
  /** Join an organisation; `link` accepts the invitation. */
  invitation: z.object({
    to: Address,
    link: Link,
    organisation: Name,
    inviterEmail: Address,
    inviterName: Name.optional(),
    role: z.enum(["owner", "admin", "member"]),
  }),
  /** Confirm the new address of an email change; `to` is the new address. */
  "email-change": LinkAndCode,
  /** A code to type before changing the password of a session that signed in long ago (GoTrue's reauthentication nonce). */
  reauthentication: z.object({ to: Address, code: Code }),
  /** Tells the account holder their password changed; carries no link, so it cannot be phished into one. */
  "password-changed": z.object({ to: Address }),
};

export type MailKind = keyof typeof MailParamsSchemas;
export type MailParams<K extends MailKind> = z.input<(typeof MailParamsSchemas)[K]>;
export const MAIL_KINDS = Object.keys(MailParamsSchemas) as MailKind[];

/** A mail's body as a few blocks, so the text and HTML versions say exactly the same thing. */
type Block = { paragraph: string } | { action: string; link: string } | { code: string; alone?: true };

interface Draft {
  subject: string;
  blocks: Block[];
}

const article = (word: string) => (/^[aeiou]/i.test(word) ? "an" : "a");

function draft(kind: MailKind, input: unknown): Draft {
  switch (kind) {
    case "confirm-signup": {
      const { link, code } = MailParamsSchemas[kind].parse(input);
      return {
        subject: `Confirm your email address for ${PRODUCT}`,
        blocks: [
          { paragraph: `Confirm your email address to finish signing up for ${PRODUCT}.` },
          { action: "Confirm my email address", link },
          { code },
          { paragraph: "If you did not sign up, you can ignore this email." },
        ],
      };
    }
    case "recovery": {
      const { to, link, code } = MailParamsSchemas[kind].parse(input);
      return {
        subject: `Reset your ${PRODUCT} password`,
        blocks: [
          { paragraph: `Someone asked to reset the password of ${to} on ${PRODUCT}.` },
          { action: "Choose a new password", link },
          { code },
          { paragraph: "If that was not you, ignore this email: your password stays as it is." },
        ],
      };
    }
    case "invitation": {
      const { link, organisation, inviterEmail, inviterName, role } = MailParamsSchemas[kind].parse(input);
      const inviter = inviterName ? `${inviterName} (${inviterEmail})` : inviterEmail;
      return {
        subject: `${inviterName ?? inviterEmail} invited you to join ${organisation} on ${PRODUCT}`,
        blocks: [
          { paragraph: `${inviter} invited you to join ${organisation} on ${PRODUCT} as ${article(role)} ${role}.` },
          { action: "Accept the invitation", link },
          { paragraph: "If you were not expecting this, you can ignore this email." },
        ],
      };
    }
    case "email-change": {
      const { to, link, code } = MailParamsSchemas[kind].parse(input);
      return {
        subject: `Confirm your new email address for ${PRODUCT}`,
        blocks: [
          { paragraph: `Confirm ${to} as the new email address of your ${PRODUCT} account.` },
          { action: "Confirm my new address", link },
          { code },
          { paragraph: "If you did not ask for this change, ignore this email: your address stays as it is." },
        ],
      };
    }
    case "reauthentication": {
      const { code } = MailParamsSchemas[kind].parse(input);
      return {
        subject: `Your ${PRODUCT} confirmation code`,
        blocks: [
          { paragraph: `Enter this code in ${PRODUCT} to confirm it is you before changing your password. It works for 10 minutes.` },
          { code, alone: true },
          { paragraph: "If you did not ask for it, someone may be signed in to your account: change your password and sign out everywhere." },
        ],
      };
    }
    case "password-changed": {
      const { to } = MailParamsSchemas[kind].parse(input);
      return {
        subject: `Your ${PRODUCT} password was changed`,
        blocks: [
          { paragraph: `The password of your ${PRODUCT} account ${to} was just changed.` },
          { paragraph: `If that was you, there is nothing to do. If it was not, reset your password from the ${PRODUCT} sign-in page straight away and tell an owner of your organisation.` },
        ],
      };
    }
  }
}

function blockText(block: Block): string {
  if ("paragraph" in block) return block.paragraph;
  if ("action" in block) return `${block.action}:\n${block.link}`;
  return `${block.alone ? "Your code" : "Or enter this code"}: ${block.code}`;
}

function blockHtml(block: Block): string {
  if ("paragraph" in block) return `<p>${escapeHtml(block.paragraph)}</p>`;
  if ("action" in block) {
    const href = escapeHtml(block.link);
    return `<p><a href="${href}">${escapeHtml(block.action)}</a></p>\n<p>If the link does not work, paste this address into your browser:<br>${href}</p>`;
  }
  return `<p>${block.alone ? "Your code" : "Or enter this code"}: <strong>${escapeHtml(block.code)}</strong></p>`;
}

/**
 * The email for one event (sign-up, reset, invitation…): a short plain-text version and a plain,
 * accessible HTML one with every value escaped and nothing loaded from elsewhere.
 * Throws a ZodError when a parameter is missing or malformed (a link that is not http(s), a code that is not 6 digits).
 */
export function renderMail<K extends MailKind>(kind: K, params: MailParams<K>): MailMessage {
  const { subject, blocks } = draft(kind, params);
  const text = `${blocks.map(blockText).join("\n\n")}\n\n-- \n${PRODUCT}\n`;
  const html = [
    "<!doctype html>",
    '<html lang="en">',
    '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(subject)}</title></head>`,
    "<body>",
    ...blocks.map(blockHtml),
    `<p>&mdash;<br>${PRODUCT}</p>`,
    "</body>",
    "</html>",
    "",
  ].join("\n");
  return { to: Address.parse(params.to), subject, text, html };
}
