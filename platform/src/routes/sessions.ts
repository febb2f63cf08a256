import { AppError, AttachmentRef, isImageMediaType, SessionKey, SessionOwnerFilter, SessionUpdate, type OwnedSessionSummary } from "@workforce/protocol";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env";
import { operationRoutes } from "../auth/operation-route";
import { relationOf, type SessionOwners } from "../chat/session-owners";
import { audit } from "../db/audit";
import type { Database } from "../db/schema";
import { withTenant } from "../db/scopes";
import type { GatewayClient } from "../gateway-client";
import { forgetSearchRow, writeSearchRow } from "../search/session-index";
import { sessionToMarkdown } from "../session-markdown";
import { parseWith, readJson } from "../validation";
import { agentSlug } from "./agents";

export function sessionKey(value: string): string {
  if (!SessionKey.safeParse(value).success) throw new AppError("session_not_found", `No session "${value.slice(0, 80)}"`);
  return value;
}

function attachmentId(value: string): string {
  if (!AttachmentRef.shape.id.safeParse(value).success) throw new AppError("not_found", "No such attachment");
  return value;
}

const ExportFormat = z.enum(["json", "markdown"], { message: "must be 'json' or 'markdown'" }).default("json");

/**
 * An agent's sessions: list, history, rename, delete, export. Each is its starter's (decision
 * 010): members and API keys see only their own; owners and admins may list and read everyone's
 * (audited) and delete any, but rename only their own and unowned ones.
 */
export function sessionRoutes(deps: { db: Database; gateway: GatewayClient; owners: SessionOwners; now: () => Date }) {
  const app = new Hono<AppEnv>();
  const route = operationRoutes(app);

  route("sessions.list", async (c, access) => {
    const slug = agentSlug(c.req.param("slug"));
    const filter = parseWith(SessionOwnerFilter.default("mine"), c.req.query("owner"), "owner");
    if (filter === "all" && !access.mayActOnOthers) throw new AppError("forbidden", "Only owners and admins can list everyone's sessions (owner=all)");
    const [sessions, owners] = await Promise.all([deps.gateway.listSessions(access.tenantId, slug), deps.owners.ownersByKey(access.tenantId, slug)]);
    const listed: OwnedSessionSummary[] = sessions
      .filter((session) => filter === "all" || relationOf(owners.get(session.key), access.actor) === "own")
      .map((session) => ({ ...session, owner: deps.owners.view(owners.get(session.key)) }));
    if (filter === "all") {
      await withTenant(deps.db, access.tenantId, (trx) =>
        audit(trx, { tenantId: access.tenantId, actor: access.actor, action: "session.list_all", target: slug, details: { sessions: listed.length } }),
      );
    }
    return c.json({ sessions: listed });
  });

  route("sessions.get", async (c, access) => {
    const slug = agentSlug(c.req.param("slug"));
    const key = sessionKey(c.req.param("key"));
    const { owner, relation } = await deps.owners.authorize(access, slug, key);
    const history = await deps.gateway.getSession(access.tenantId, slug, key);
    if (relation !== "own") await deps.owners.auditRead(access, slug, key, owner);
    return c.json({ ...history, owner });
  });

  route("sessions.export", async (c, access) => {
    const slug = agentSlug(c.req.param("slug"));
    const key = sessionKey(c.req.param("key"));
    const format = parseWith(ExportFormat, c.req.query("format"), "format");
    const { owner, relation } = await deps.owners.authorize(access, slug, key);
    const history = await deps.gateway.getSession(access.tenantId, slug, key);
    const agent = format === "markdown" ? await deps.gateway.getAgent(access.tenantId, slug) : undefined;
    if (relation !== "own") await deps.owners.auditRead(access, slug, key, owner, { export: format });
    const filename = `${slug}-${key.replace(/[^A-Za-z0-9._-]/g, "_")}`;
    if (!agent) {
      c.header("content-disposition", `attachment; filename="${filename}.json"`);
      return c.json(history);
    }
    c.header("content-disposition", `attachment; filename="${filename}.md"`);
    c.header("content-type", "text/markdown; charset=utf-8");
    return c.body(sessionToMarkdown(history, agent.name));
  });

  route("sessions.attachment", async (c, access) => {
    const slug = agentSlug(c.req.param("slug"));
    const key = sessionKey(c.req.param("key"));
    const id = attachmentId(c.req.param("id"));
    const { owner, relation } = await deps.owners.authorize(access, slug, key);
    const { attachment, bytes } = await deps.gateway.getAttachment(access.tenantId, slug, key, id);
    if (relation !== "own") await deps.owners.auditRead(access, slug, key, owner, { attachment: id });
    const image = isImageMediaType(attachment.mediaType);
    // Images are shown in the chat; text files are only ever downloaded, never rendered by the browser.
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
      "content-type": image ? attachment.mediaType : "text/plain; charset=utf-8",
      "content-disposition": `${image ? "inline" : "attachment"}; filename*=UTF-8''${encodeURIComponent(attachment.name)}`,
      "cache-control": "private, no-store",
    });
  });

  route("sessions.rename", async (c, access) => {
    const slug = agentSlug(c.req.param("slug"));
    const key = sessionKey(c.req.param("key"));
    const { title } = await readJson(c, SessionUpdate);
    const { owner } = await deps.owners.authorize(access, slug, key);
    const session = await deps.gateway.renameSession(access.tenantId, slug, key, title);
    await withTenant(deps.db, access.tenantId, async (trx) => {
      await writeSearchRow(trx, access.tenantId, slug, session, undefined, deps.now());
      await audit(trx, { tenantId: access.tenantId, actor: access.actor, action: "session.rename", target: `${slug}/${key}`, details: { title } });
    });
    return c.json({ session: { ...session, owner } });
  });

  route("sessions.delete", async (c, access) => {
    const slug = agentSlug(c.req.param("slug"));
    const key = sessionKey(c.req.param("key"));
    const { owner } = await deps.owners.authorize(access, slug, key);
    await deps.gateway.deleteSession(access.tenantId, slug, key);
    await withTenant(deps.db, access.tenantId, async (trx) => {
      await trx.deleteFrom("session_owners").where("tenant_id", "=", access.tenantId).where("agent_slug", "=", slug).where("session_key", "=", key).execute();
      // Its tool calls' approvals hold its contents (arguments); the audit log keeps the decisions.
      await trx.deleteFrom("approvals").where("tenant_id", "=", access.tenantId).where("agent_slug", "=", slug).where("session_key", "=", key).execute();
      await forgetSearchRow(trx, access.tenantId, slug, key);
      await audit(trx, {
        tenantId: access.tenantId,
        actor: access.actor,
        action: "session.delete",
        target: `${slug}/${key}`,
        details: { owner: { type: owner.type, id: owner.id } },
      });
    });
    return c.body(null, 204);
  });

  return app;
}
