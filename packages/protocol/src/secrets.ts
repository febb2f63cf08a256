import { z } from "zod";

/*
 * The tenant secret store as the API shows it (issue 14, decision 029): names, kinds, a hint and
 * dates. A value is never part of any schema here: once set, it leaves the platform only towards
 * the service it is for.
 */

/** What a secret is for; one store holds every kind. */
export const SecretKind = z.enum(["mcp-headers", "mcp-oauth", "composio", "webhook", "model-key"]);
export type SecretKind = z.infer<typeof SecretKind>;

/** One secret of the organisation, as `GET /api/secrets` lists it. */
export const SecretView = z.object({
  name: z.string(),
  kind: SecretKind,
  /** "…abcd" (the last 4 characters of a value of 12 or more), else "set". */
  hint: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** Who set it last: a member (their email while they are one), or null for the platform itself (a token refresh). */
  updatedBy: z.object({ userId: z.string(), email: z.string().nullable() }).nullable(),
});
export type SecretView = z.infer<typeof SecretView>;

export const SecretList = z.object({ secrets: z.array(SecretView) });
export type SecretList = z.infer<typeof SecretList>;
