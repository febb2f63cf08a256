import type { Role } from "../api/platform-schemas";

/** "an owner", "an admin", "a member". */
export function articleFor(role: Role): "a" | "an" {
  return role === "member" ? "a" : "an";
}

/** Why the only owner is offered neither Leave nor a role change (the platform answers 409 `last_owner`). */
export const LAST_OWNER_REASON = "The only owner cannot leave or change role: make someone else an owner first.";
