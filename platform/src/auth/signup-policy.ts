import { AppError } from "@workforce/protocol";

/** WORKFORCE_SIGNUP: who may create an account. */
export type SignupMode = "open" | "invite" | "domains" | "closed";

export interface SignupPolicy {
  mode: SignupMode;
  /** WORKFORCE_SIGNUP_DOMAINS, lowercase, for `domains`. */
  domains: readonly string[];
}

export interface SignupDecision {
  /** The account gets an organisation of its own (not when it joins one by invitation). */
  ownOrganisation: boolean;
}

const domainOf = (email: string) => email.slice(email.lastIndexOf("@") + 1).toLowerCase();

/**
 * Whether `email` may sign up (decision 012). The first account of an installation is always
 * allowed: it becomes the operator. An invitation to the same address admits the account under
 * every mode but `closed`, and the account joins that organisation instead of getting its own.
 */
export function decideSignup(policy: SignupPolicy, input: { email: string; firstUser: boolean; invited: boolean }): SignupDecision {
  if (input.firstUser) return { ownOrganisation: true };
  if (policy.mode === "closed") throw new AppError("signup_disabled", "Sign-up is closed on this installation; ask its operator for an account");
  if (input.invited) return { ownOrganisation: false };
  switch (policy.mode) {
    case "open":
      return { ownOrganisation: true };
    case "domains":
      if (policy.domains.includes(domainOf(input.email))) return { ownOrganisation: true };
      throw new AppError(
        "signup_disabled",
        `Sign-up on this installation is limited to addresses at ${policy.domains.join(", ")}; anyone else needs an invitation`,
      );
    case "invite":
      throw new AppError("signup_disabled", "Sign-up on this installation needs an invitation: open the link in the invitation email");
  }
}

/** Whether a signed-in user may create another organisation: everyone where anyone may sign up, else the operator. */
export function mayCreateOrganisation(policy: SignupPolicy, user: { email: string; isOperator: boolean }): boolean {
  if (user.isOperator) return true;
  if (policy.mode === "open") return true;
  if (policy.mode === "domains") return policy.domains.includes(domainOf(user.email));
  return false;
}
