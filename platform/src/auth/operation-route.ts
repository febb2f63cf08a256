import { AppError } from "@workforce/protocol";
import type { Context, Hono } from "hono";
import type { AppEnv, Principal } from "../app-env";
import type { Role } from "../db/schema";
import type { AuthenticatedUser } from "./access-token";
import type { PERMISSIONS} from "./permissions";
import { mayActOnOthers, maySeeOthers, ruleOf, type AccessRule, type OperationId } from "./permissions";

/** The actor columns of an audit entry or usage event. */
export interface Actor {
  userId: string | null;
  apiKeyId: string | null;
}

interface BaseAccess {
  operation: OperationId;
  rule: AccessRule;
}
export type PublicAccess = BaseAccess;
export interface AccountAccess extends BaseAccess {
  user: AuthenticatedUser;
  actor: Actor;
}
/** A caller admitted to an organisation: a member whose role the rule allows, or an API key with the scope. */
export interface TenantAccess extends BaseAccess {
  tenantId: string;
  principal: Principal;
  actor: Actor;
  /** The user's role; null for API keys. */
  role: Role | null;
  /** The signed-in user; undefined for API keys. */
  user: AuthenticatedUser | undefined;
  /** Whether the caller may act on someone else's object (the rule's `ownership.others`). */
  mayActOnOthers: boolean;
  /** Whether the caller may see that someone else's object exists (403 rather than 404 when refused). */
  maySeeOthers: boolean;
}
/** Operations API keys may not call: the caller is always a signed-in member. */
export interface MemberAccess extends TenantAccess {
  role: Role;
  user: AuthenticatedUser;
}

type Rule<Id extends OperationId> = (typeof PERMISSIONS)[Id];
/** Operations served under /api (the GoTrue `session` ones are the auth routes' own). */
export type RoutedOperationId = { [Id in OperationId]: Rule<Id>["level"] extends "session" ? never : Id }[OperationId];
/** What the access check hands the handler, by the operation's rule. */
export type AccessOf<Id extends RoutedOperationId> = Rule<Id>["level"] extends "public"
  ? PublicAccess
  : Rule<Id>["level"] extends "account" | "operator"
    ? AccountAccess
    : Rule<Id>["apiKey"] extends null
      ? MemberAccess
      : TenantAccess;

type WithoutQuery<P extends string> = P extends `${infer Path}?${string}` ? Path : P;
type Colons<P extends string> = P extends `${infer Head}{${infer Name}}${infer Tail}` ? `${Head}:${Name}${Colons<Tail>}` : P;
/** `/api/agents/{slug}` → `/agents/:slug`, so `c.req.param("slug")` is typed. */
export type RouterPath<P extends string> = P extends `/api${infer Rest}` ? Colons<WithoutQuery<Rest>> : never;

export type OperationHandler<Id extends RoutedOperationId> = (
  c: Context<AppEnv, RouterPath<Rule<Id>["path"]>>,
  access: AccessOf<Id>,
) => Response | Promise<Response>;

function actorOf(principal: Principal): Actor {
  return principal.type === "user" ? { userId: principal.user.id, apiKeyId: null } : { userId: null, apiKeyId: principal.keyId };
}

/**
 * Checks the caller against the operation's rule (permissions.ts) and returns what the handler
 * may use. Role and scope are decided here; whose object it is (sessions, runs, members) is
 * decided by the handler with `mayActOnOthers`/`maySeeOthers`, once it knows the object.
 */
export function authorize(c: Context<AppEnv>, id: RoutedOperationId): PublicAccess | AccountAccess | TenantAccess {
  const rule = ruleOf(id);
  if (rule.level === "public") return { operation: id, rule };
  // Set by `authenticate`; absent only if a route were mounted ahead of it, which then fails closed.
  const principal = c.get("principal") as Principal | undefined;
  if (!principal) throw new AppError("unauthorized", "Sign in first: send Authorization: Bearer <access token or API key>");
  if (rule.level === "account" || rule.level === "session" || rule.level === "operator") {
    if (principal.type !== "user") throw new AppError("forbidden", "API keys cannot use this route; sign in as a user");
    return { operation: id, rule, user: principal.user, actor: actorOf(principal) };
  }
  const problem = c.get("tenantProblem");
  if (problem) throw problem;
  const membership = c.get("membership");
  if (!membership) throw new AppError("forbidden", "You are not a member of any organisation");
  if (membership.suspended && !rule.whileSuspended) {
    const reason = membership.suspended.reason ? `: ${membership.suspended.reason}` : "";
    throw new AppError("tenant_suspended", `This organisation is suspended by the installation's operator${reason}. Its owners and admins can still export its data, and members can leave it.`);
  }
  if (principal.type === "api-key") {
    if (rule.apiKey === null) throw new AppError("forbidden", "API keys cannot use this route; sign in as a user");
    if (!principal.scopes.includes(rule.apiKey)) throw new AppError("forbidden", `This API key lacks the "${rule.apiKey}" scope`);
  } else if (membership.role === null || !rule.roles.includes(membership.role)) {
    const who = rule.roles.map((role) => `${role}s`).join(" and ");
    throw new AppError("forbidden", `Only ${who} can do this (${id}); your role is ${membership.role ?? "none"}`);
  }
  return {
    operation: id,
    rule,
    tenantId: membership.id,
    principal,
    actor: actorOf(principal),
    role: membership.role,
    user: principal.type === "user" ? principal.user : undefined,
    mayActOnOthers: mayActOnOthers(rule, membership.role),
    maySeeOthers: maySeeOthers(rule, membership.role),
  };
}

/** `/api/agents/{slug}` → `/agents/:slug` (routes are mounted under /api). */
function routerPath(path: string): string {
  const withoutQuery = path.split("?")[0] ?? path;
  if (!withoutQuery.startsWith("/api/")) throw new Error(`operation path ${path} is not under /api`);
  return withoutQuery.slice("/api".length).replace(/\{(\w+)\}/g, ":$1");
}

/**
 * Registers routes by operation id: method and path come from the permission table, and the
 * access check runs before the handler, which receives its result. A route cannot be added
 * without a rule, and a handler cannot get at the organisation without passing the check.
 * Mount the app at `/api` root (`api.route("/", …)`).
 */
export function operationRoutes(app: Hono<AppEnv>) {
  return function route<Id extends RoutedOperationId>(id: Id, handler: OperationHandler<Id>): void {
    const rule = ruleOf(id);
    app.on(rule.method.toUpperCase(), routerPath(rule.path), (c) =>
      handler(c as Context<AppEnv, RouterPath<Rule<Id>["path"]>>, authorize(c, id) as AccessOf<Id>),
    );
  };
}
