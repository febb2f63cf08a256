/**
 * The permission table in words: for the OpenAPI document (`x-workforce-access` and each
 * operation's description), `/api/docs`, and the tables of docs/platform-api.md (a test keeps
 * the document equal to `renderAccessTable()` and `renderScopeTable()`).
 */
import { SCOPES } from "../app-env";
import type { Role } from "../db/schema";
import { OPERATION_IDS, ROLES, ruleOf, UNOWNED_SESSIONS, VISIBLE_TO, type AccessRule, type OperationId } from "./permissions";

const PLURAL: Record<Role, string> = { owner: "owners", admin: "admins", member: "members" };

function roleList(roles: readonly Role[]): string {
  const names = ROLES.filter((role) => roles.includes(role)).map((role) => PLURAL[role]);
  return names.length <= 1 ? (names[0] ?? "nobody") : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
}

const OBJECT_NAMES = { session: "session", run: "run (its session)", member: "member" } as const;

/** One sentence or two: who may call the operation. */
export function describeAccess(rule: AccessRule): string {
  switch (rule.level) {
    case "public":
      return "Public: no credentials needed.";
    case "session":
      return "Your own sign-in: an access token (API keys are not one).";
    case "account":
      return `Any signed-in user; no organisation needed (X-Tenant-ID is ignored). API keys: no.${rule.note ? ` ${rule.note[0]!.toUpperCase()}${rule.note.slice(1)}.` : ""}`;
    case "operator":
      return "The installation's operator (its first account) only. API keys: no.";
    case "tenant": {
      const parts = [`Roles: ${roleList(rule.roles)}.`];
      parts.push(rule.apiKey ? `API keys: with the \`${rule.apiKey}\` scope.` : "API keys: no.");
      if (rule.ownership) {
        const object = OBJECT_NAMES[rule.ownership.object];
        const others = rule.ownership.others.length ? `someone else's: ${roleList(rule.ownership.others)} only` : "never someone else's";
        parts.push(`Your own ${object}; ${others}${rule.ownership.object === "member" ? "" : ` (404 for those who may not see it)`}.`);
        if (rule.ownership.object !== "member") parts.push(`Sessions nobody owns: ${roleList(UNOWNED_SESSIONS)}.`);
      }
      if (rule.note) parts.push(`${rule.note[0]!.toUpperCase()}${rule.note.slice(1)}.`);
      if (rule.whileSuspended) parts.push("Allowed while the organisation is suspended.");
      return parts.join(" ");
    }
  }
}

/** The machine-readable rule, as `x-workforce-access` in the OpenAPI document. */
export function accessExtension(id: OperationId) {
  const rule = ruleOf(id);
  return {
    operation: id,
    level: rule.level,
    roles: [...rule.roles],
    apiKeyScope: rule.apiKey,
    ...(rule.ownership
      ? {
          ownership: {
            object: rule.ownership.object,
            others: [...rule.ownership.others],
            visibleTo: [...VISIBLE_TO[rule.ownership.object]],
            ...(rule.ownership.object === "member" ? {} : { unowned: [...UNOWNED_SESSIONS] }),
          },
        }
      : {}),
    ...(rule.note ? { note: rule.note } : {}),
  };
}

/** One cell of the access table: what a role may do. */
function roleCell(rule: AccessRule, role: Role): string {
  if (rule.level !== "tenant") return rule.level === "public" ? "anyone" : "✓";
  if (!rule.roles.includes(role)) return "—";
  if (!rule.ownership) return "✓";
  if (rule.ownership.others.includes(role)) return "any";
  return rule.ownership.object === "member" ? "self" : UNOWNED_SESSIONS.includes(role) ? "own + unowned" : "own";
}

function keyCell(rule: AccessRule): string {
  if (rule.level === "public") return "anyone";
  if (!rule.apiKey) return "—";
  return rule.ownership ? `\`${rule.apiKey}\`, own` : `\`${rule.apiKey}\``;
}

function displayPath(rule: AccessRule): string {
  return `${rule.method.toUpperCase()} \`${rule.path}\``;
}

/** The docs' "who may do what" table: one row per operation. */
export function renderAccessTable(): string {
  const rows = OPERATION_IDS.filter((id) => ruleOf(id).level === "tenant").map((id) => {
    const rule = ruleOf(id);
    const cells = [`\`${id}\``, displayPath(rule), ...[...ROLES].reverse().map((role) => roleCell(rule, role)), keyCell(rule), rule.note ?? ""];
    return `| ${cells.join(" | ")} |`;
  });
  return ["| operation | route | member | admin | owner | API key | also |", "|---|---|---|---|---|---|---|", ...rows].join("\n");
}

/** Operations that need no organisation: public ones and account-level ones. */
export function renderOpenOperations(): string {
  const line = (level: AccessRule["level"]) =>
    OPERATION_IDS.filter((id) => ruleOf(id).level === level)
      .map((id) => displayPath(ruleOf(id)))
      .join(", ");
  return [
    `- **Public** (no credentials): ${line("public")}.`,
    `- **Your sign-in** (an access token, never an API key): ${line("session")}.`,
    `- **Account** (any signed-in user, no organisation needed; \`X-Tenant-ID\` is ignored, so a stale one does no harm; API keys get 403): ${line("account")}.`,
    `- **Operator** (the installation's operator, its first account; anyone else gets 403): ${line("operator")}.`,
  ].join("\n");
}

/** The docs' API-key table: which operations each scope opens. */
export function renderScopeTable(): string {
  const rows = SCOPES.map((scope) => {
    const operations = OPERATION_IDS.filter((id) => ruleOf(id).apiKey === scope).map((id) => displayPath(ruleOf(id)));
    return `| \`${scope}\` | ${operations.join(", ")} |`;
  });
  return ["| scope | routes |", "|---|---|", ...rows].join("\n");
}
