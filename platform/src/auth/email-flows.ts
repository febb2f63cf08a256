import { AppError } from "@workforce/protocol";
import type { OneTimeTokenKind } from "../db/schema";
import { withSystem } from "../db/scopes";
import type { VerifyType } from "./account-mail";
import type { AuthShared, RequestContext } from "./auth-service";
import { toGoTrueUser, type GoTrueSession, type GoTrueUser } from "./gotrue-user";
import { otpExpired } from "./one-time-tokens";
import { checkNewPassword } from "./password-rules";

/** A password change without a fresh sign-in (or a reauthentication code) is refused after this long, as GoTrue's "secure password change". */
export const RECENT_SIGN_IN_MS = 24 * 60 * 60_000;

/** GoTrue `type`s `/verify` accepts, and the tokens each may use. */
const VERIFY_KINDS: Record<VerifyType | "email", readonly OneTimeTokenKind[]> = {
  signup: ["confirm-signup"],
  email: ["confirm-signup"],
  recovery: ["recovery"],
  email_change: ["email-change"],
};

export type VerifyInput = { type: VerifyType | "email"; token_hash: string } | { type: VerifyType | "email"; email: string; token: string };

export interface UserUpdate {
  email?: string | undefined;
  password?: string | undefined;
  /** The code from `/reauthenticate`, when the session signed in long ago. */
  nonce?: string | undefined;
}

/**
 * The flows that go through the user's mailbox: confirming an address, recovering a password,
 * changing the email (confirmed at the new address), reauthenticating before a password change.
 * Endpoints that mail a link answer the same whether or not the account exists.
 */
export function createEmailFlows(shared: AuthShared) {
  const { system, now } = shared;

  async function currentUser(userId: string): Promise<GoTrueUser> {
    return withSystem(system, async (trx) => {
      const user = await trx.selectFrom("users").selectAll().where("id", "=", userId).executeTakeFirst();
      if (!user) throw new AppError("invalid_token", "User from sub claim in JWT does not exist");
      const change = await trx
        .selectFrom("one_time_tokens")
        .select(["email", "created_at"])
        .where("user_id", "=", userId)
        .where("kind", "=", "email-change")
        .where("used_at", "is", null)
        .where("expires_at", ">", now())
        .orderBy("created_at", "desc")
        .executeTakeFirst();
      return toGoTrueUser(user, change ? { newEmail: change.email, emailChangeSentAt: change.created_at } : {});
    });
  }

  /** Mails are best effort where answering differently would tell whether an account exists. */
  const quietly = (what: string, send: Promise<void>) => send.catch((error: unknown) => shared.logError(`could not send the ${what} mail`, error));

  async function changePassword(userId: string, sessionId: string | undefined, password: string, nonce: string | undefined): Promise<void> {
    checkNewPassword(password);
    const session = sessionId ? await shared.sessions.find(userId, sessionId) : undefined;
    if (!session) throw new AppError("session_not_found", "This session was signed out; sign in again", { status: 403 });
    const recent = now().getTime() - session.createdAt.getTime() < RECENT_SIGN_IN_MS;
    // Reauthentication comes first (as in GoTrue): otherwise same_password would tell whoever
    // holds an old session's token, unthrottled, whether a guess is the current password.
    if (!recent) {
      if (!nonce) {
        throw new AppError("reauthentication_needed", "Changing the password of a session that signed in more than a day ago needs a code: ask for one (reauthenticate) and send it as nonce");
      }
      const consumed = await withSystem(system, (trx) => shared.oneTimeTokens.consumeCode(trx, ["reauthentication"], { userId }, nonce));
      if (!consumed) throw new AppError("reauthentication_needed", "That code is wrong or has expired; ask for a new one");
    }
    const user = await withSystem(system, (trx) => trx.selectFrom("users").select(["email", "password_hash"]).where("id", "=", userId).executeTakeFirstOrThrow());
    if (!user.password_hash.startsWith("!") && (await shared.passwords.verify(password, user.password_hash))) {
      throw new AppError("same_password", "New password should be different from the old password.");
    }
    const hash = await shared.passwords.hash(password);
    await withSystem(system, (trx) => trx.updateTable("users").set({ password_hash: hash, updated_at: now() }).where("id", "=", userId).execute());
    // Whoever else was signed in with the old password is signed out.
    shared.ended(await shared.sessions.revoke(userId, sessionId, "others"));
    await quietly("password-changed", shared.mail.passwordChanged(user.email));
  }

  async function changeEmail(userId: string, email: string): Promise<void> {
    const issued = await withSystem(system, async (trx) => {
      const user = await trx.selectFrom("users").select(["email", "password_hash"]).where("id", "=", userId).executeTakeFirstOrThrow();
      if (user.email === email) return undefined;
      const holder = await trx.selectFrom("users").select("id").where("email", "=", email).executeTakeFirst();
      if (holder) throw new AppError("email_taken", "A user with this email address has already been registered");
      return shared.oneTimeTokens.issue(trx, { userId, kind: "email-change", email });
    });
    if (issued) await shared.mail.emailChange(email, issued);
  }

  return {
    currentUser,

    /** `PUT /user`: a new password (reauthenticated) and/or a new email (confirmed at the new address). */
    async updateUser(userId: string, sessionId: string | undefined, update: UserUpdate): Promise<GoTrueUser> {
      if (update.password !== undefined) await changePassword(userId, sessionId, update.password, update.nonce);
      if (update.email !== undefined) await changeEmail(userId, update.email.trim().toLowerCase());
      return currentUser(userId);
    },

    /** `GET /reauthenticate`: mails a code that lets an old session change its password. */
    async reauthenticate(userId: string, context: RequestContext): Promise<void> {
      const user = await withSystem(system, (trx) => trx.selectFrom("users").select("email").where("id", "=", userId).executeTakeFirstOrThrow());
      await shared.guards.email.admit({ email: user.email, address: context.address, purpose: "reauthentication" });
      const issued = await withSystem(system, (trx) => shared.oneTimeTokens.issue(trx, { userId, kind: "reauthentication", email: user.email }));
      await shared.mail.reauthentication(user.email, issued);
    },

    /** `POST /recover`: mails a link and code to reset the password, if the account exists (the answer is the same either way). */
    async recover(rawEmail: string, context: RequestContext): Promise<void> {
      const email = rawEmail.trim().toLowerCase();
      await shared.guards.email.admit({ email, address: context.address, purpose: "password-reset" });
      const issued = await withSystem(system, async (trx) => {
        const user = await trx.selectFrom("users").select(["id", "password_hash"]).where("email", "=", email).executeTakeFirst();
        if (!user || user.password_hash.startsWith("!")) return undefined;
        return shared.oneTimeTokens.issue(trx, { userId: user.id, kind: "recovery", email });
      });
      if (issued) await quietly("recovery", shared.mail.recovery(email, issued));
    },

    /** `POST /resend`: a new confirmation mail for an unconfirmed account, or for a pending email change. */
    async resend(type: "signup" | "email_change", rawEmail: string, context: RequestContext): Promise<void> {
      const email = rawEmail.trim().toLowerCase();
      await shared.guards.email.admit({ email, address: context.address, purpose: type === "signup" ? "confirmation" : "email-change" });
      const issued = await withSystem(system, async (trx) => {
        if (type === "signup") {
          const user = await trx.selectFrom("users").select(["id", "email_confirmed_at"]).where("email", "=", email).executeTakeFirst();
          if (!user || user.email_confirmed_at) return undefined;
          return shared.oneTimeTokens.issue(trx, { userId: user.id, kind: "confirm-signup", email });
        }
        const pending = await trx
          .selectFrom("one_time_tokens")
          .select("user_id")
          .where("kind", "=", "email-change")
          .where("email", "=", email)
          .where("used_at", "is", null)
          .executeTakeFirst();
        return pending ? shared.oneTimeTokens.issue(trx, { userId: pending.user_id, kind: "email-change", email }) : undefined;
      });
      if (!issued) return;
      await quietly(type === "signup" ? "confirmation" : "email-change", type === "signup" ? shared.mail.confirmSignup(email, issued) : shared.mail.emailChange(email, issued));
    },

    /**
     * `POST /verify` (supabase-js `verifyOtp`): a link's `token_hash`, or an email and the typed
     * code. Confirms the address (or applies the email change) and signs the user in.
     */
    async verify(input: VerifyInput, context: RequestContext): Promise<GoTrueSession> {
      const kinds = VERIFY_KINDS[input.type];
      // A link's token is 256 random bits; a typed code is six digits, so its guesses are counted.
      if (!("token_hash" in input)) await shared.guards.codes.admit({ email: input.email, address: context.address });
      const outcome = await withSystem(system, async (trx) => {
        const consumed =
          "token_hash" in input
            ? await shared.oneTimeTokens.consumeToken(trx, kinds, input.token_hash)
            : await shared.oneTimeTokens.consumeCode(trx, kinds, { email: input.email.trim().toLowerCase() }, input.token);
        if (!consumed) return undefined;
        if (consumed.kind === "email-change") {
          const holder = await trx.selectFrom("users").select("id").where("email", "=", consumed.email).where("id", "!=", consumed.userId).executeTakeFirst();
          if (holder) throw new AppError("email_taken", "Another account took this address in the meantime");
          await trx.updateTable("users").set({ email: consumed.email, email_confirmed_at: now(), updated_at: now() }).where("id", "=", consumed.userId).execute();
        } else {
          // A recovery link reached the address too: it proves the mailbox as much as a confirmation does.
          await trx
            .updateTable("users")
            .set({ email_confirmed_at: now(), updated_at: now() })
            .where("id", "=", consumed.userId)
            .where("email", "=", consumed.email)
            .where("email_confirmed_at", "is", null)
            .execute();
        }
        const user = await trx.updateTable("users").set({ last_sign_in_at: now() }).where("id", "=", consumed.userId).returningAll().executeTakeFirstOrThrow();
        return { user, kind: consumed.kind };
      });
      if (!outcome) throw otpExpired();
      return shared.startSession(outcome.user, outcome.kind === "recovery" ? "recovery" : "otp");
    },
  };
}
