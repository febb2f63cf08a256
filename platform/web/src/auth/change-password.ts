import type { SupabaseClient } from "@supabase/supabase-js";
import { describeAuthError, type AuthErrorDetail } from "./auth-errors";

export type PasswordChange = { status: "saved" } | { status: "code-sent" } | { status: "error"; error: AuthErrorDetail };

type AuthClient = Pick<SupabaseClient["auth"], "updateUser" | "reauthenticate">;

/**
 * Sets a new password. A sign-in older than a day must prove it is still its owner (GoTrue's
 * "secure password change"): the server answers `reauthentication_needed`, so we ask it to mail a
 * code (`reauthenticate`) and the caller sends the password again with that code as `nonce`.
 */
export async function changePassword(auth: AuthClient, password: string, nonce?: string): Promise<PasswordChange> {
  const { error } = await auth.updateUser(nonce === undefined ? { password } : { password, nonce });
  if (!error) return { status: "saved" };
  const detail = describeAuthError(error);
  if (detail.code !== "reauthentication_needed") return { status: "error", error: detail };
  if (nonce !== undefined) {
    return { status: "error", error: { code: detail.code, message: "That code is wrong or has expired. Check the newest email, or send a new code." } };
  }
  return requestCode(auth);
}

/** Mails a (new) code for confirming a password change. */
export async function requestCode(auth: AuthClient): Promise<PasswordChange> {
  const { error } = await auth.reauthenticate();
  return error ? { status: "error", error: describeAuthError(error) } : { status: "code-sent" };
}
