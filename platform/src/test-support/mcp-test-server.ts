import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { serve, type ServerType } from "@hono/node-server";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { Hono, type Context } from "hono";
import { z } from "zod";

/**
 * A real MCP server built with the SDK (Streamable HTTP, stateless), in the test process, with
 * an optional small OAuth 2.1 authorization server of its own (RFC 8414 metadata, RFC 7591
 * registration, authorization code with PKCE S256 and RFC 8707 `resource`, refresh tokens) and
 * RFC 9728 protected resource metadata, found only through the 401's WWW-Authenticate.
 */
/** The outbound policy of platforms talking to these servers: loopback allowed, as an operator would allow a host of theirs. */
export const LOOPBACK_OUTBOUND = { allowPrivateNetwork: false, allowHosts: ["127.0.0.1"] };

export interface McpTestServerOptions {
  /** Every MCP request must carry these headers (else 401). */
  requiredHeaders?: Record<string, string>;
  /** Protect the server with its own authorization server. */
  oauth?: { accessTokenLifetimeSeconds?: number };
}

export interface McpTestServer {
  /** The MCP endpoint. */
  url: string;
  origin: string;
  /** Headers of every MCP request received (names lowercased). */
  requests: Record<string, string>[];
  /** What the authorization server saw and did. */
  oauth: { registrations: number; authorizations: { resource: string | null; scope: string | null }[]; codeExchanges: number; refreshes: number };
  /** The user's approval at the authorization server: follows the authorization URL, answers the redirect back (to our callback). */
  approve(authorizationUrl: string): Promise<string>;
  /** Refresh tokens stop working (the user revoked access). */
  revokeRefreshTokens(): void;
  close(): Promise<void>;
}

function mcpServer(): McpServer {
  const server = new McpServer({ name: "test-tools", version: "1.0.0" });
  server.registerTool("echo", { description: "Says back what it is given", inputSchema: { text: z.string() } }, ({ text }) => ({ content: [{ type: "text", text: `echo: ${text}` }] }));
  server.registerTool("add", { description: "Adds two numbers", inputSchema: { a: z.number(), b: z.number() } }, ({ a, b }) => ({ content: [{ type: "text", text: String(a + b) }] }));
  return server;
}

const s256 = (verifier: string) => createHash("sha256").update(verifier).digest("base64url");

export async function startMcpTestServer(options: McpTestServerOptions = {}): Promise<McpTestServer> {
  const app = new Hono();
  const requests: Record<string, string>[] = [];
  const stats: McpTestServer["oauth"] = { registrations: 0, authorizations: [], codeExchanges: 0, refreshes: 0 };
  const clients = new Map<string, { redirectUris: string[] }>();
  const codes = new Map<string, { clientId: string; challenge: string; redirectUri: string; resource: string | null }>();
  const accessTokens = new Map<string, number>();
  const refreshTokens = new Set<string>();
  let origin = "";
  const lifetime = options.oauth?.accessTokenLifetimeSeconds ?? 3600;
  const metadataPath = "/meta/protected-resource";

  const issue = () => {
    const access = randomBytes(24).toString("base64url");
    const refresh = randomBytes(24).toString("base64url");
    accessTokens.set(access, Date.now() + lifetime * 1000);
    refreshTokens.add(refresh);
    return { access_token: access, token_type: "Bearer", expires_in: lifetime, refresh_token: refresh };
  };
  const oauthError = (c: Context, error: string, status: 400 | 401 = 400) => c.json({ error, error_description: error }, status);

  if (options.oauth) {
    app.get(metadataPath, (c) => c.json({ resource: `${origin}/mcp`, authorization_servers: [origin], scopes_supported: ["tools"] }));
    app.get("/.well-known/oauth-authorization-server", (c) =>
      c.json({
        issuer: origin,
        authorization_endpoint: `${origin}/authorize`,
        token_endpoint: `${origin}/token`,
        registration_endpoint: `${origin}/register`,
        response_types_supported: ["code"],
        grant_types_supported: ["authorization_code", "refresh_token"],
        code_challenge_methods_supported: ["S256"],
        token_endpoint_auth_methods_supported: ["none"],
      }),
    );
    app.post("/register", async (c) => {
      const body = await c.req.json<{ redirect_uris?: string[] }>();
      if (!Array.isArray(body.redirect_uris) || body.redirect_uris.length === 0) return oauthError(c, "invalid_redirect_uri");
      const clientId = randomUUID();
      clients.set(clientId, { redirectUris: body.redirect_uris });
      stats.registrations++;
      return c.json({ ...body, client_id: clientId, client_id_issued_at: Math.floor(Date.now() / 1000), token_endpoint_auth_method: "none" }, 201);
    });
    app.get("/authorize", (c) => {
      const query = c.req.query();
      const client = clients.get(query.client_id ?? "");
      if (!client || !query.redirect_uri || !client.redirectUris.includes(query.redirect_uri)) return oauthError(c, "invalid_client");
      if (query.response_type !== "code" || query.code_challenge_method !== "S256" || !query.code_challenge) return oauthError(c, "invalid_request");
      stats.authorizations.push({ resource: query.resource ?? null, scope: query.scope ?? null });
      const code = randomBytes(16).toString("base64url");
      codes.set(code, { clientId: query.client_id!, challenge: query.code_challenge, redirectUri: query.redirect_uri, resource: query.resource ?? null });
      const back = new URL(query.redirect_uri);
      back.searchParams.set("code", code);
      if (query.state) back.searchParams.set("state", query.state);
      return c.redirect(back.href, 302);
    });
    app.post("/token", async (c) => {
      const form = new URLSearchParams(await c.req.text());
      if (form.get("grant_type") === "authorization_code") {
        const code = codes.get(form.get("code") ?? "");
        codes.delete(form.get("code") ?? "");
        if (!code || code.clientId !== form.get("client_id") || code.redirectUri !== form.get("redirect_uri")) return oauthError(c, "invalid_grant");
        if (s256(form.get("code_verifier") ?? "") !== code.challenge) return oauthError(c, "invalid_grant");
        if (form.get("resource") !== code.resource) return oauthError(c, "invalid_target");
        stats.codeExchanges++;
        return c.json(issue());
      }
      if (form.get("grant_type") === "refresh_token") {
        const refresh = form.get("refresh_token") ?? "";
        if (!refreshTokens.delete(refresh)) return oauthError(c, "invalid_grant");
        stats.refreshes++;
        return c.json(issue());
      }
      return oauthError(c, "unsupported_grant_type");
    });
  }

  app.all("/mcp", async (c) => {
    const headers = Object.fromEntries([...c.req.raw.headers.entries()].map(([name, value]) => [name.toLowerCase(), value]));
    requests.push(headers);
    const refused = () =>
      c.json({ error: "unauthorized" }, 401, options.oauth ? { "www-authenticate": `Bearer resource_metadata="${origin}${metadataPath}", scope="tools"` } : {});
    for (const [name, value] of Object.entries(options.requiredHeaders ?? {})) if (headers[name.toLowerCase()] !== value) return refused();
    if (options.oauth) {
      const token = /^Bearer (\S+)$/.exec(headers.authorization ?? "")?.[1];
      const expires = token ? accessTokens.get(token) : undefined;
      if (!expires || expires <= Date.now()) return refused();
    }
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    const server = mcpServer();
    await server.connect(transport);
    return transport.handleRequest(c.req.raw);
  });

  const server: ServerType = await new Promise((resolve) => {
    const started = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(started));
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${origin}/mcp`,
    origin,
    requests,
    oauth: stats,
    async approve(authorizationUrl) {
      const response = await fetch(authorizationUrl, { redirect: "manual" });
      const location = response.headers.get("location");
      if (response.status !== 302 || !location) throw new Error(`the authorization server refused: ${response.status} ${await response.text()}`);
      return location;
    },
    revokeRefreshTokens() {
      refreshTokens.clear();
    },
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
