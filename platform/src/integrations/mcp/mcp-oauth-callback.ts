import { Hono } from "hono";
import type { McpOAuth } from "./mcp-oauth";

/**
 * `GET /oauth/mcp/callback`: outside /api, because the browser comes back from the authorization
 * server without our bearer token; the state alone names the organisation, the server and the
 * user who started it. Always a redirect back to the Integrations screen, with the outcome.
 */
export function mcpOAuthCallbackRoutes(oauth: McpOAuth) {
  const app = new Hono();
  app.get("/oauth/mcp/callback", async (c) => {
    const location = await oauth.callback({ code: c.req.query("code"), state: c.req.query("state"), error: c.req.query("error") });
    c.header("cache-control", "no-store");
    c.header("referrer-policy", "no-referrer");
    return c.redirect(location, 302);
  });
  return app;
}
