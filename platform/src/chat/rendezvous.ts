import { createHash } from "node:crypto";

/** A well-mixed 48-bit weight of (member, key): exact in a JS number, and cheap (one SHA-1). */
function weight(member: string, key: string): number {
  return createHash("sha1").update(member).update("\0").update(key).digest().readUIntBE(0, 6);
}

/**
 * Rendezvous (highest-random-weight) hashing: the member with the highest weight for `key`.
 * Every process with the same member list picks the same member without talking to the others,
 * and when a member leaves only its own keys move (each to its second choice); when one joins,
 * it takes about 1/n of the keys from the others. Undefined when there are no members.
 */
export function rendezvousPick(key: string, members: readonly string[]): string | undefined {
  return rendezvousOrder(key, members)[0];
}

/** Every member, best first for `key`: where to go when the first choice fails. */
export function rendezvousOrder(key: string, members: readonly string[]): string[] {
  return members
    .map((member) => ({ member, weight: weight(member, key) }))
    .sort((a, b) => b.weight - a.weight || (a.member < b.member ? -1 : a.member > b.member ? 1 : 0))
    .map((entry) => entry.member);
}

/** The key a session's messages are routed by: tenant, agent and session (tenant and agent for a session not named yet). */
export function sessionRoutingKey(tenantId: string, agent: string, sessionKey: string | undefined): string {
  return sessionKey === undefined ? `${tenantId}/${agent}` : `${tenantId}/${agent}/${sessionKey}`;
}
