import { z } from "zod";
import { ToolMode } from "./integrations";

/*
 * The platform's Composio API (issue 14): the organisation's connected apps and which of their
 * tools each agent may use. Connections are keyed at Composio by our tenant id (Composio's "user
 * id"); nothing Composio holds for them (the apps' tokens) ever passes through these shapes.
 */

/** A Composio toolkit slug (`github`, `googlecalendar`). */
export const ComposioToolkitSlug = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,99}$/, "must be a Composio toolkit slug such as github");
/** A Composio tool slug (`GITHUB_CREATE_AN_ISSUE`). */
export const ComposioToolSlug = z.string().regex(/^[A-Z0-9_]{1,64}$/, "must be a Composio tool slug such as GITHUB_CREATE_AN_ISSUE");

/** Where a connection stands: `pending` until the hosted auth flow completes, `active` once usable. */
export const ComposioConnectionStatus = z.enum(["pending", "active", "failed", "expired", "inactive"]);
export type ComposioConnectionStatus = z.infer<typeof ComposioConnectionStatus>;

export const ComposioConnectionView = z.object({
  id: z.string().uuid(),
  toolkit: z.string(),
  status: ComposioConnectionStatus,
  /** Composio's connected account id (not a secret: it is used only with our tenant id and our API key). */
  connectedAccountId: z.string(),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type ComposioConnectionView = z.infer<typeof ComposioConnectionView>;

/** `GET /api/integrations/composio`: whether the installation offers Composio, and the organisation's connections. */
export const ComposioOverview = z.discriminatedUnion("configured", [
  z.object({ configured: z.literal(false) }),
  z.object({ configured: z.literal(true), connections: z.array(ComposioConnectionView) }),
]);
export type ComposioOverview = z.infer<typeof ComposioOverview>;

export const ComposioToolkitView = z.object({
  slug: z.string(),
  name: z.string(),
  description: z.string(),
  logo: z.string().nullable(),
  toolsCount: z.number().nullable(),
});
export type ComposioToolkitView = z.infer<typeof ComposioToolkitView>;

export const ComposioToolView = z.object({ slug: z.string(), name: z.string(), description: z.string() });
export type ComposioToolView = z.infer<typeof ComposioToolView>;

/** `POST /api/integrations/composio/connections`. */
export const ComposioConnectInput = z.object({ toolkit: ComposioToolkitSlug });
export type ComposioConnectInput = z.infer<typeof ComposioConnectInput>;

/** Its answer: send the browser to `redirectUrl` (Composio's hosted auth page); it comes back to /integrations. */
export const ComposioConnectResult = z.object({ connection: ComposioConnectionView, redirectUrl: z.string().url() });
export type ComposioConnectResult = z.infer<typeof ComposioConnectResult>;

/** Most tools one agent may be given from one toolkit when it names them. */
export const MAX_COMPOSIO_TOOLS_PER_TOOLKIT = 100;

/** One toolkit an agent may use: every tool of it (`tools` null) or the named ones, at once or after approval. */
export const AgentComposioToolkit = z.object({
  toolkit: ComposioToolkitSlug,
  mode: ToolMode,
  tools: z.array(ComposioToolSlug).min(1).max(MAX_COMPOSIO_TOOLS_PER_TOOLKIT).nullable().default(null),
});
export type AgentComposioToolkit = z.infer<typeof AgentComposioToolkit>;

/** `GET/PUT /api/agents/{slug}/composio-tools`: the agent's whole choice (PUT replaces it). */
export const AgentComposioTools = z.object({ toolkits: z.array(AgentComposioToolkit).max(50) });
export type AgentComposioTools = z.infer<typeof AgentComposioTools>;
export type AgentComposioToolsInput = z.input<typeof AgentComposioTools>;
