import { createHash, randomBytes } from "node:crypto";
import {
  discoverOAuthServerInfo,
  exchangeAuthorization,
  extractWWWAuthenticateParams,
  refreshAuthorization,
  registerClient,
  startAuthorization,
} from "@modelcontextprotocol/sdk/client/auth.js";
import { checkResourceAllowed, resourceUrlFromServerUrl } from "@modelcontextprotocol/sdk/shared/auth-utils.js";
import { OAuthClientInformationFullSchema, OAuthMetadataSchema, OpenIdProviderDiscoveryMetadataSchema } from "@modelcontextprotocol/sdk/shared/auth.js";
import { LATEST_PROTOCOL_VERSION } from "@modelcontextprotocol/sdk/types.js";
import { AppError } from "@workforce/protocol";
import { z } from "zod";
import type { Database, SystemDatabase } from "../../db/schema";
import { withSystem, withTenant, type TenantTransaction } from "../../db/scopes";
import type { TenantSecrets } from "../../secrets/tenant-secrets";
import { errorLine, findServer, type McpServerRow } from "./mcp-server-store";
import { requireSecrets, revealJson, secretNames } from "./mcp-secrets";
import type { UrlGuard } from "./mcp-ports";

/** How long a started authorisation may take before its state is refused. */
export const OAUTH_STATE_TTL_MS = 10 * 60_000;
/** A token this close to its expiry is refreshed before a run. */
const EXPIRY_MARGIN_MS = 60_000;

const AuthorizationServerMetadata = z.union([OAuthMetadataSchema, OpenIdProviderDiscoveryMetadataSchema]);

/** The client registration and where it is valid: kept with the tokens, for refreshing them. */
const Registration = z.object({
  authorizationServerUrl: z.string(),
  metadata: AuthorizationServerMetadata.optional(),
  client: OAuthClientInformationFullSchema,
  redirectUri: z.string(),
  resource: z.string(),
});
type Registration = z.infer<typeof Registration>;

const Pending = z.object({ codeVerifier: z.string(), registration: Registration });

/** The OAuth connection of a server: its tokens and registration (the secret `mcp/{id}/oauth`). */
export const StoredOAuth = z.object({
  accessToken: z.string(),
  tokenType: z.string().default("Bearer"),
  refreshToken: z.string().optional(),
  /** Epoch ms; absent: the server gave no lifetime. */
  expiresAt: z.number().optional(),
  registration: Registration,
});
export type StoredOAuth = z.infer<typeof StoredOAuth>;

export interface McpOAuthDeps {
  db: Database;
  system: SystemDatabase;
  secrets: TenantSecrets | undefined;
  guard: UrlGuard;
  now: () => Date;
  /** PUBLIC_URL: the callback is `{publicUrl}/oauth/mcp/callback`, the browser returns to `{publicUrl}/integrations`. */
  publicUrl: string;
  logError: (message: string, error: unknown) => void;
}

const hashState = (state: string) => createHash("sha256").update(state).digest("hex");

/** A readable reason from the SDK's or the authorization server's error, never a token. */
function reason(error: unknown): string {
  return errorLine(error instanceof Error ? error.message : String(error));
}

/**
 * The MCP authorization spec's flow for one server: protected resource metadata (RFC 9728, from
 * the 401's WWW-Authenticate or the well-known URL), authorization server metadata (RFC 8414 /
 * OIDC), dynamic client registration (RFC 7591), authorization code with PKCE and the `resource`
 * parameter (RFC 8707), and refreshing the token. Every outgoing request goes through the SSRF guard.
 */
export function createMcpOAuth(deps: McpOAuthDeps) {
  const redirectUri = `${deps.publicUrl}/oauth/mcp/callback`;
  const fetchFn = deps.guard.fetch;
  const refreshing = new Map<string, Promise<StoredOAuth | undefined>>();

  /** Asks the server unauthenticated: a 401's WWW-Authenticate may name its resource metadata and scope. */
  async function probe(url: string): Promise<{ resourceMetadataUrl?: URL; scope?: string }> {
    try {
      const response = await fetchFn(url, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: "workforce", version: "0.1.0" } } }),
        signal: AbortSignal.timeout(15_000),
      });
      await response.body?.cancel();
      if (response.status !== 401) return {};
      const params = extractWWWAuthenticateParams(response);
      return { ...(params.resourceMetadataUrl ? { resourceMetadataUrl: params.resourceMetadataUrl } : {}), ...(params.scope ? { scope: params.scope } : {}) };
    } catch {
      // Unreachable now: the well-known discovery below reports it.
      return {};
    }
  }

  async function discover(row: McpServerRow): Promise<{ registrationBase: Omit<Registration, "client">; scope: string | undefined }> {
    const hint = await probe(row.url);
    let info;
    try {
      info = await discoverOAuthServerInfo(row.url, { ...(hint.resourceMetadataUrl ? { resourceMetadataUrl: hint.resourceMetadataUrl } : {}), fetchFn });
    } catch (error) {
      throw new AppError("mcp_oauth_failed", `Could not discover the server's authorization server: ${reason(error)}`);
    }
    if (!info.authorizationServerMetadata) throw new AppError("mcp_oauth_failed", `The authorization server ${info.authorizationServerUrl} publishes no OAuth metadata`);
    const serverResource = resourceUrlFromServerUrl(row.url);
    const advertised = info.resourceMetadata?.resource;
    if (advertised && !checkResourceAllowed({ requestedResource: serverResource, configuredResource: advertised })) {
      throw new AppError("mcp_oauth_failed", `The server's metadata names another resource (${advertised.slice(0, 200)})`);
    }
    const scope = hint.scope ?? info.resourceMetadata?.scopes_supported?.join(" ");
    return {
      registrationBase: { authorizationServerUrl: info.authorizationServerUrl, metadata: info.authorizationServerMetadata, redirectUri, resource: advertised ?? serverResource.href },
      scope: scope || undefined,
    };
  }

  async function register(base: Omit<Registration, "client">, scope: string | undefined, previous: Registration | undefined): Promise<Registration> {
    if (previous && previous.authorizationServerUrl === base.authorizationServerUrl && previous.redirectUri === base.redirectUri) return { ...base, client: previous.client };
    try {
      const client = await registerClient(base.authorizationServerUrl, {
        ...(base.metadata ? { metadata: base.metadata } : {}),
        clientMetadata: {
          client_name: "Workforce",
          redirect_uris: [base.redirectUri],
          grant_types: ["authorization_code", "refresh_token"],
          response_types: ["code"],
          token_endpoint_auth_method: "none",
        },
        ...(scope ? { scope } : {}),
        fetchFn,
      });
      return { ...base, client };
    } catch (error) {
      throw new AppError("mcp_oauth_failed", `The authorization server did not register us as a client: ${reason(error)}`);
    }
  }

  function stored(tokens: { access_token: string; token_type?: string; refresh_token?: string; expires_in?: number }, registration: Registration, previousRefresh?: string): StoredOAuth {
    const refreshToken = tokens.refresh_token ?? previousRefresh;
    return {
      accessToken: tokens.access_token,
      tokenType: tokens.token_type ?? "Bearer",
      ...(refreshToken ? { refreshToken } : {}),
      ...(tokens.expires_in === undefined ? {} : { expiresAt: deps.now().getTime() + tokens.expires_in * 1000 }),
      registration,
    };
  }

  const oauthRedirect = (query: Record<string, string>) => `${deps.publicUrl}/integrations?${new URLSearchParams(query).toString()}`;

  async function markNeedsAuth(tenantId: string, serverId: string, message: string): Promise<void> {
    await withTenant(deps.db, tenantId, (trx) =>
      trx.updateTable("mcp_servers").set({ status: "needs_auth", last_error: errorLine(message), updated_at: deps.now() }).where("tenant_id", "=", tenantId).where("id", "=", serverId).execute(),
    );
  }

  async function refreshNow(tenantId: string, serverId: string): Promise<StoredOAuth | undefined> {
    const secrets = requireSecrets(deps.secrets);
    // The row lock makes concurrent refreshes on other processes wait, then see the new token.
    return withTenant(deps.db, tenantId, async (trx) => {
      await findServer(trx, tenantId, serverId, { lock: true });
      const current = await revealJson(secrets, trx, tenantId, secretNames.oauth(serverId), StoredOAuth);
      if (!current) return undefined;
      if (!isExpired(current)) return current;
      if (!current.refreshToken) throw new Error("the access token expired and there is no refresh token");
      const { registration } = current;
      const tokens = await refreshAuthorization(registration.authorizationServerUrl, {
        ...(registration.metadata ? { metadata: registration.metadata } : {}),
        clientInformation: registration.client,
        refreshToken: current.refreshToken,
        resource: registration.resource,
        fetchFn,
      });
      const next = stored(tokens, registration, current.refreshToken);
      await secrets.put(trx, tenantId, { name: secretNames.oauth(serverId), kind: "mcp-oauth", value: JSON.stringify(next) });
      return next;
    });
  }

  function isExpired(oauth: StoredOAuth): boolean {
    return oauth.expiresAt !== undefined && oauth.expiresAt - EXPIRY_MARGIN_MS <= deps.now().getTime();
  }

  return {
    redirectUri,
    isExpired,

    /** Begins authorising the server for `userId`: answers where the browser goes. */
    async start(tenantId: string, userId: string, serverId: string): Promise<string> {
      const secrets = requireSecrets(deps.secrets);
      const { row, previous } = await withTenant(deps.db, tenantId, async (trx) => {
        const server = await findServer(trx, tenantId, serverId);
        const connection = await revealJson(secrets, trx, tenantId, secretNames.oauth(serverId), StoredOAuth);
        return { row: server, previous: connection?.registration };
      });
      if (row.auth !== "oauth") throw new AppError("validation_failed", `This server uses auth "${row.auth}", not OAuth`);
      const { registrationBase, scope } = await discover(row);
      const registration = await register(registrationBase, scope, previous);
      const state = randomBytes(32).toString("base64url");
      let started;
      try {
        started = await startAuthorization(registration.authorizationServerUrl, {
          ...(registration.metadata ? { metadata: registration.metadata } : {}),
          clientInformation: registration.client,
          redirectUrl: redirectUri,
          state,
          resource: registration.resource,
          ...(scope ? { scope } : {}),
        });
      } catch (error) {
        throw new AppError("mcp_oauth_failed", `Could not start the authorisation: ${reason(error)}`);
      }
      const stateHash = hashState(state);
      await withTenant(deps.db, tenantId, async (trx) => {
        await findServer(trx, tenantId, serverId);
        // Authorisations abandoned in this organisation go (their pending secrets with the server or the next use).
        await trx.deleteFrom("mcp_oauth_states").where("tenant_id", "=", tenantId).where("expires_at", "<", deps.now()).execute();
        await trx
          .insertInto("mcp_oauth_states")
          .values({ state_hash: stateHash, tenant_id: tenantId, server_id: serverId, user_id: userId, created_at: deps.now(), expires_at: new Date(deps.now().getTime() + OAUTH_STATE_TTL_MS) })
          .execute();
        await secrets.put(trx, tenantId, { name: secretNames.pending(serverId, stateHash), kind: "mcp-oauth", value: JSON.stringify({ codeVerifier: started.codeVerifier, registration }), userId });
      });
      return started.authorizationUrl.href;
    },

    /**
     * The browser's return (`GET /oauth/mcp/callback?code&state`): the state is looked up, used up
     * and checked (unexpired, its user still an owner or admin), the code exchanged for tokens.
     * Answers where to send the browser: `/integrations?mcp=connected` or `?mcp_error=…`.
     */
    async callback(query: { code?: string | undefined; state?: string | undefined; error?: string | undefined }): Promise<string> {
      if (!query.state) return oauthRedirect({ mcp_error: "invalid_state" });
      const stateHash = hashState(query.state);
      // Single use: taken out of the table whether or not what follows succeeds.
      const pending = await withSystem(deps.system, async (trx) => {
        const row = await trx.deleteFrom("mcp_oauth_states").where("state_hash", "=", stateHash).returningAll().executeTakeFirst();
        if (!row) return undefined;
        const membership = await trx.selectFrom("memberships").select("role").where("tenant_id", "=", row.tenant_id).where("user_id", "=", row.user_id).executeTakeFirst();
        return { row, mayManage: membership?.role === "owner" || membership?.role === "admin" };
      });
      if (!pending) return oauthRedirect({ mcp_error: "invalid_state" });
      const { tenant_id: tenantId, server_id: serverId, user_id: userId } = pending.row;
      const secrets = requireSecrets(deps.secrets);
      const takePending = (trx: TenantTransaction) => secrets.remove(trx, tenantId, secretNames.pending(serverId, stateHash));
      if (pending.row.expires_at.getTime() <= deps.now().getTime() || !pending.mayManage) {
        await withTenant(deps.db, tenantId, takePending);
        return oauthRedirect({ mcp_error: pending.mayManage ? "expired_state" : "forbidden", server: serverId });
      }
      if (query.error || !query.code) {
        await withTenant(deps.db, tenantId, takePending);
        return oauthRedirect({ mcp_error: query.error === "access_denied" ? "access_denied" : "authorization_failed", server: serverId });
      }
      const saved = await withTenant(deps.db, tenantId, async (trx) => {
        const value = await revealJson(secrets, trx, tenantId, secretNames.pending(serverId, stateHash), Pending);
        await takePending(trx);
        return value;
      });
      if (!saved) return oauthRedirect({ mcp_error: "invalid_state", server: serverId });
      const { registration } = saved;
      let tokens;
      try {
        tokens = await exchangeAuthorization(registration.authorizationServerUrl, {
          ...(registration.metadata ? { metadata: registration.metadata } : {}),
          clientInformation: registration.client,
          authorizationCode: query.code,
          codeVerifier: saved.codeVerifier,
          redirectUri: registration.redirectUri,
          resource: registration.resource,
          fetchFn,
        });
      } catch (error) {
        await markNeedsAuth(tenantId, serverId, `The authorization server refused the code: ${reason(error)}`);
        return oauthRedirect({ mcp_error: "token_exchange_failed", server: serverId });
      }
      const connected = await withTenant(deps.db, tenantId, async (trx) => {
        const row = await trx.selectFrom("mcp_servers").select("id").where("tenant_id", "=", tenantId).where("id", "=", serverId).forUpdate().executeTakeFirst();
        if (!row) return false;
        await secrets.put(trx, tenantId, { name: secretNames.oauth(serverId), kind: "mcp-oauth", value: JSON.stringify(stored(tokens, registration)), userId });
        await trx.updateTable("mcp_servers").set({ status: "unchecked", last_error: null, updated_at: deps.now(), updated_by: userId }).where("id", "=", serverId).execute();
        return true;
      });
      return connected ? oauthRedirect({ mcp: "connected", server: serverId }) : oauthRedirect({ mcp_error: "server_deleted" });
    },

    /**
     * The connection with a usable access token: refreshed first when it has expired (once, one
     * refresh at a time per server). A failed refresh marks the server `needs_auth`: undefined.
     */
    async fresh(tenantId: string, serverId: string, current: StoredOAuth): Promise<StoredOAuth | undefined> {
      if (!isExpired(current)) return current;
      const key = `${tenantId}/${serverId}`;
      let inFlight = refreshing.get(key);
      if (!inFlight) {
        inFlight = refreshNow(tenantId, serverId)
          .catch(async (error: unknown) => {
            await markNeedsAuth(tenantId, serverId, `The OAuth token could not be refreshed: ${reason(error)}. Connect the server again.`).catch((markError: unknown) => deps.logError("marking an MCP server needs_auth failed", markError));
            return undefined;
          })
          .finally(() => refreshing.delete(key));
        refreshing.set(key, inFlight);
      }
      return inFlight;
    },
  };
}

export type McpOAuth = ReturnType<typeof createMcpOAuth>;
