import type { Session } from "@supabase/supabase-js";
import { navigate } from "../router";
import type { Services } from "../services";

/** GoTrue's verification types, as the mailed links carry them. */
export type VerifyType = "signup" | "email" | "recovery" | "email_change";

export function isVerifyType(value: string | undefined): value is VerifyType {
  return value === "signup" || value === "email" || value === "recovery" || value === "email_change";
}

/**
 * Where a confirmed link or code leads; supabase-js has already signed the user in. A confirmed
 * address goes into the app with a notice; a recovery goes to "Choose a new password"; a new
 * address to the account settings, which show it.
 */
export function afterVerified(services: Pick<Services, "notices">, type: VerifyType, session: Session | null): void {
  switch (type) {
    case "signup":
    case "email":
      navigate("/", { replace: true });
      services.notices.show("Your address is confirmed.");
      return;
    case "recovery":
      navigate("/auth/new-password", { replace: true });
      return;
    case "email_change":
      navigate("/account", { replace: true });
      services.notices.show(`Your address is now ${session?.user.email ?? "changed"}.`);
      return;
  }
}
