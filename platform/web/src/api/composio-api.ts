import { AgentComposioTools, ComposioConnectResult, ComposioOverview, ComposioToolkitView, ComposioToolView, type AgentComposioToolsInput } from "@workforce/protocol";
import { z } from "zod";

/** The client's JSON call and raw call, as `createApiClient` builds them. */
export interface ApiCalls {
  json: <T>(schema: z.ZodType<T>, path: string, init?: RequestInit) => Promise<T>;
  send: (path: string, init?: RequestInit & { extraHeaders?: Record<string, string> }) => Promise<Response>;
}

/** The platform's Composio routes (docs/platform-api.md, "Integrations: Composio"). */
export function composioApi({ json, send }: ApiCalls) {
  const agentTools = (slug: string) => `/agents/${encodeURIComponent(slug)}/composio-tools`;
  return {
    /** `{ configured: false }` when the installation offers no Composio apps (the section hides itself). */
    overview: () => json(ComposioOverview, "/integrations/composio"),
    toolkits: async (search?: string) =>
      (await json(z.object({ toolkits: z.array(ComposioToolkitView) }), `/integrations/composio/toolkits${search ? `?search=${encodeURIComponent(search)}` : ""}`)).toolkits,
    tools: async (toolkit: string) => (await json(z.object({ tools: z.array(ComposioToolView) }), `/integrations/composio/toolkits/${encodeURIComponent(toolkit)}/tools`)).tools,
    /** Starts the hosted sign-in: the caller sends the browser to `redirectUrl`. */
    connect: (toolkit: string) => json(ComposioConnectResult, "/integrations/composio/connections", { method: "POST", body: JSON.stringify({ toolkit }) }),
    disconnect: async (id: string) => {
      await send(`/integrations/composio/connections/${encodeURIComponent(id)}`, { method: "DELETE" });
    },
    agentTools: (slug: string) => json(AgentComposioTools, agentTools(slug)),
    setAgentTools: (slug: string, choice: AgentComposioToolsInput) => json(AgentComposioTools, agentTools(slug), { method: "PUT", body: JSON.stringify(choice) }),
  };
}
