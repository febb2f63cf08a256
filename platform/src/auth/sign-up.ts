import { AppError } from "@workforce/protocol";
import { withSystem } from "../db/scopes";
import type { AuthShared, RequestContext } from "./auth-service";
import { checkNewPassword } from "./password-rules";
import { toGoTrueUser, type GoTrueSession, type GoTrueUser } from "./gotrue-user";
import { decideSignup } from "./signup-policy";

export interface SignUpInput {
  email: string;
  password: string;
  /** GoTrue's user metadata (`options.data` in supabase-js); only `invitation_token` is read. */
  data?: { invitation_token?: string | undefined } | undefined;
}

/**
 * Sign-up under the installation's policy (decision 012). The first account becomes the
 * operator, its address confirmed. With an invitation token for the same address the account joins that organisation
 * (no spare organisation of its own) and its address counts as confirmed: the token was mailed
 * there. Otherwise a confirmation mail goes out; while confirmation is required the answer is
 * the user without a session, as GoTrue answers.
 */
export function createSignUp(shared: AuthShared) {
  const { system, now } = shared;

  /** Undoes an account whose confirmation mail could not be sent, so signing up again works. */
  async function forget(userId: string, ownTenantId: string | undefined): Promise<void> {
    if (ownTenantId) await shared.tenancy.deleteTenant(ownTenantId);
    await withSystem(system, (trx) => trx.deleteFrom("users").where("id", "=", userId).execute());
  }

  return async function signUp(input: SignUpInput, context: RequestContext): Promise<GoTrueSession | GoTrueUser> {
    const email = input.email.trim().toLowerCase();
    checkNewPassword(input.password);
    await shared.guards.signUp.admit({ address: context.address });
    const invitationToken = input.data?.invitation_token;
    const passwordHash = await shared.passwords.hash(input.password);

    const created = await withSystem(system, async (trx) => {
      const firstUser = await shared.tenancy.isFirstUser(trx);
      const invitation = invitationToken ? await shared.tenancy.usableInvitation(trx, invitationToken) : undefined;
      if (invitationToken && !invitation) throw new AppError("not_found", "This invitation does not exist, has expired, or was already used");
      if (invitation && invitation.email !== email) {
        throw new AppError("forbidden", `This invitation is for ${invitation.email}; sign up with that address to accept it`);
      }
      const decision = decideSignup(shared.signup, { email, firstUser, invited: invitation !== undefined });
      const user = await trx
        .insertInto("users")
        .values({
          email,
          password_hash: passwordHash,
          created_at: now(),
          updated_at: now(),
          last_sign_in_at: now(),
          // The operator's own address is taken on trust: they installed it, and a fresh server
          // has nowhere to read mail from yet (no SMTP_URL, an outbox only its machine can open).
          email_confirmed_at: invitation || firstUser ? now() : null,
          is_operator: firstUser,
        })
        .onConflict((conflict) => conflict.column("email").doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!user) throw new AppError("email_taken", "A user with this email address has already been registered");
      if (invitation) await shared.tenancy.joinIn(trx, user.id, invitation);
      const localPart = email.split("@")[0] ?? email;
      const own = decision.ownOrganisation ? await shared.tenancy.createTenantIn(trx, user.id, `${localPart}'s organisation`) : undefined;
      const confirmation = user.email_confirmed_at ? undefined : await shared.oneTimeTokens.issue(trx, { userId: user.id, kind: "confirm-signup", email });
      return { user, ownTenantId: own?.id, confirmation };
    });

    const { user } = created;
    if (created.confirmation) {
      try {
        await shared.mail.confirmSignup(email, created.confirmation);
      } catch (error) {
        if (shared.confirmation === "required") {
          await forget(user.id, created.ownTenantId);
          throw error;
        }
        shared.logError(`could not send the confirmation mail to a new account (${user.id})`, error);
      }
    }
    if (!user.email_confirmed_at && shared.confirmation === "required") return toGoTrueUser(user, { confirmationSentAt: now() });
    return shared.startSession(user, "password");
  };
}
