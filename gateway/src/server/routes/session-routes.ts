import { AppError, SessionKey, SessionTitleRequest, SessionUpdate, isImageMediaType, ATTACHMENT_HEADER, type AttachmentRef } from "@workforce/protocol";
import { assertSlug } from "@workforce/protocol/tenant-path";
import { Hono } from "hono";
import type { AgentStore } from "../../agents/agent-store";
import type { RunManager } from "../../runs/run-manager";
import type { SessionStore } from "../../sessions/session-store";
import type { SessionTitler } from "../../sessions/session-titles";
import type { GatewayEnv } from "../gateway-env";
import { readJsonBody } from "../request-input";
import { actorOf } from "./run-routes";

export interface SessionRouteDeps {
  agents: AgentStore;
  sessions: SessionStore;
  runs: RunManager;
  /** `POST …/title`: names a session after its first exchange (decision 043); absent, not served. */
  titles?: SessionTitler | undefined;
  /** A message's stored file (decision 042), read through the tenant-path helper; undefined when it is gone. Absent: not served. */
  readAttachment?: ((tenantId: string, agent: string, ref: AttachmentRef) => Promise<Buffer | undefined>) | undefined;
  /** Deletes a message's stored file when its session is deleted (decision 042). */
  removeAttachment?: ((tenantId: string, agent: string, ref: AttachmentRef) => Promise<void>) | undefined;
}

/** A session key from the path: 400 invalid_session_key when malformed. */
export function sessionKey(value: string): string {
  const parsed = SessionKey.safeParse(value);
  if (!parsed.success) throw new AppError("invalid_session_key", `session key ${parsed.error.issues[0]?.message ?? "is invalid"}`);
  return parsed.data;
}

/** `/v1/agents/:slug/sessions`: list, history, rename, delete. */
export function sessionRoutes(deps: SessionRouteDeps): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();

  const agentRef = async (tenantId: string, slug: string) => {
    const agent = assertSlug(slug);
    await deps.agents.get(tenantId, agent);
    return { tenantId, agent };
  };

  app.get("/:slug/sessions", async (c) => {
    const ref = await agentRef(c.get("tenantId"), c.req.param("slug"));
    return c.json({ sessions: await deps.sessions.list(ref) });
  });

  app.get("/:slug/sessions/:key", async (c) => {
    const ref = await agentRef(c.get("tenantId"), c.req.param("slug"));
    return c.json(await deps.sessions.history(ref, sessionKey(c.req.param("key"))));
  });

  app.patch("/:slug/sessions/:key", async (c) => {
    const ref = await agentRef(c.get("tenantId"), c.req.param("slug"));
    const key = sessionKey(c.req.param("key"));
    const { title } = await readJsonBody(c, SessionUpdate);
    return c.json({ session: await deps.sessions.rename(ref, key, title) });
  });

  app.post("/:slug/sessions/:key/title", async (c) => {
    if (!deps.titles) throw new AppError("not_found", "this gateway does not generate titles");
    const ref = await agentRef(c.get("tenantId"), c.req.param("slug"));
    const key = sessionKey(c.req.param("key"));
    const { useModel, integrations } = await readJsonBody(c, SessionTitleRequest);
    return c.json(await deps.titles(ref, key, { useModel, integrations, origin: actorOf(c) }));
  });

  // A file sent with one of the session's messages: only those its transcript names can be read here.
  app.get("/:slug/sessions/:key/attachments/:id", async (c) => {
    const ref = await agentRef(c.get("tenantId"), c.req.param("slug"));
    const history = await deps.sessions.history(ref, sessionKey(c.req.param("key")));
    const id = c.req.param("id");
    const attachment = history.entries.flatMap((entry) => (entry.type === "user" ? (entry.attachments ?? []) : [])).find((candidate) => candidate.id === id);
    const bytes = attachment && (await deps.readAttachment?.(ref.tenantId, ref.agent, attachment));
    if (!attachment || !bytes) throw new AppError("not_found", "no such attachment in this session");
    return c.body(new Uint8Array(bytes), 200, {
      "content-type": isImageMediaType(attachment.mediaType) ? attachment.mediaType : "text/plain; charset=utf-8",
      // Percent-encoded: a header carries no characters beyond Latin-1, a file name may.
      [ATTACHMENT_HEADER]: encodeURIComponent(JSON.stringify(attachment)),
    });
  });

  // Additive to docs/gateway-api.md: stop whatever a session is doing (active run and its queue).
  app.post("/:slug/sessions/:key/abort", async (c) => {
    const ref = await agentRef(c.get("tenantId"), c.req.param("slug"));
    const key = sessionKey(c.req.param("key"));
    await deps.sessions.get(ref, key);
    const aborted = deps.runs.abortWhere(ref.tenantId, ref.agent, key);
    return c.json({ aborted: aborted.map((run) => deps.runs.info(run)) });
  });

  app.delete("/:slug/sessions/:key", async (c) => {
    const ref = await agentRef(c.get("tenantId"), c.req.param("slug"));
    const key = sessionKey(c.req.param("key"));
    const { entries } = await deps.sessions.history(ref, key);
    deps.runs.abortWhere(ref.tenantId, ref.agent, key);
    await deps.sessions.remove(ref, key);
    // The files sent in the chat go with it; the transcript that named them is gone already, so a failure here only leaves unnamed files.
    for (const attachment of entries.flatMap((entry) => (entry.type === "user" ? (entry.attachments ?? []) : []))) {
      await deps.removeAttachment?.(ref.tenantId, ref.agent, attachment);
    }
    return c.body(null, 204);
  });

  return app;
}
