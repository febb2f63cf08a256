import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { AppError, HOOK_TOKEN_HEADER, MESSAGE_BODY_MAX_BYTES, TENANT_HEADER, WS_PATH, WS_SHARED_TENANTS_PROTOCOL } from "@workforce/protocol";
import { assertTenantId } from "@workforce/protocol/tenant-path";
import { WebSocketServer, type WebSocket } from "ws";
import { authenticate, presentedToken } from "../auth";
import type { AuthFailureLimiter } from "../auth-failures";
import { WsConnection, type WsConnectionDeps } from "./ws-connection";

export interface WsGatewayOptions extends WsConnectionDeps {
  hookToken: string | undefined;
  /** Failed-authentication counts shared with the HTTP routes. */
  authFailures: AuthFailureLimiter;
}

export interface WsGateway {
  /** Hook for the HTTP server's `upgrade` event. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  close(): void;
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** True when the client offers the shared connection's subprotocol (decision 049). */
function wantsShared(request: IncomingMessage): boolean {
  const offered = header(request, "sec-websocket-protocol") ?? "";
  return offered.split(",").some((each) => each.trim() === WS_SHARED_TENANTS_PROTOCOL);
}

/**
 * Authenticates at connect: the token from `Authorization: Bearer` or `x-clawdbot-token`, the
 * tenant from X-Tenant-ID (or `?tenant=`). Never a token in the URL: URLs end up in access logs.
 * Failures count against the client's address together with failed HTTP requests; the valid
 * token always passes. A shared connection (its subprotocol offered) binds no tenant: undefined.
 */
function authenticateUpgrade(request: IncomingMessage, hookToken: string | undefined, failures: AuthFailureLimiter): string | undefined {
  const url = new URL(request.url ?? "/", "http://gateway");
  if (url.pathname !== WS_PATH) throw new AppError("not_found", `websocket endpoint is ${WS_PATH}`);
  const presented = presentedToken(header(request, "authorization"), header(request, HOOK_TOKEN_HEADER));
  try {
    authenticate({ expected: hookToken, presented, address: request.socket.remoteAddress, failures });
  } catch (error) {
    if (error instanceof AppError && error.code === "unauthorized" && url.searchParams.has("token")) {
      throw new AppError("unauthorized", "the gateway token is not accepted in the URL (it would end up in access logs); send Authorization: Bearer <CLAWDBOT_HOOK_TOKEN>");
    }
    throw error;
  }
  if (wantsShared(request)) return undefined;
  const tenant = (header(request, TENANT_HEADER) ?? url.searchParams.get("tenant") ?? "").trim();
  if (!tenant) throw new AppError("tenant_required", "the X-Tenant-ID header (or ?tenant=) is required");
  return assertTenantId(tenant);
}

function refuse(socket: Duplex, error: AppError): void {
  const body = JSON.stringify(error.toBody());
  const extra = Object.entries(error.headers ?? {})
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join("");
  socket.end(`HTTP/1.1 ${error.status} ${error.code}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}connection: close\r\n\r\n${body}`);
}

/** The WebSocket interface for live clients: request/response/event frames, tenant bound at connect or named per frame. */
export function createWsGateway(options: WsGatewayOptions): WsGateway {
  const server = new WebSocketServer({
    noServer: true,
    maxPayload: MESSAGE_BODY_MAX_BYTES + 1024 * 1024,
    // The shared connection's subprotocol when offered; otherwise the first one offered, as before it existed.
    handleProtocols: (offered) => (offered.has(WS_SHARED_TENANTS_PROTOCOL) ? WS_SHARED_TENANTS_PROTOCOL : (offered.values().next().value ?? false)),
  });
  const live = new Set<WebSocket>();
  return {
    handleUpgrade(request, socket, head) {
      let tenantId: string | undefined;
      try {
        tenantId = authenticateUpgrade(request, options.hookToken, options.authFailures);
      } catch (error) {
        refuse(socket, error instanceof AppError ? error : new AppError("internal_error", "websocket upgrade failed"));
        return;
      }
      server.handleUpgrade(request, socket, head, (ws) => {
        live.add(ws);
        const connection = new WsConnection(tenantId, options, (frame) => {
          if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
        });
        ws.on("message", (data: Buffer) => {
          void connection.receive(data.toString("utf8"));
        });
        ws.on("close", () => {
          connection.close();
          live.delete(ws);
        });
        ws.on("error", () => ws.terminate());
      });
    },
    close() {
      for (const ws of live) ws.close(1001, "gateway shutting down");
      server.close();
    },
  };
}
