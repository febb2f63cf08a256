import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { AppError, HOOK_TOKEN_HEADER, TENANT_HEADER, WS_PATH } from "@workforce/protocol";
import { assertTenantId } from "@workforce/protocol/tenant-path";
import { WebSocketServer, type WebSocket } from "ws";
import { tokenMatches } from "../auth";
import { normalizeAddress, type AuthFailureLimiter } from "../auth-failures";
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

/**
 * Authenticates at connect: token and tenant from headers, or from `?token=`/`?tenant=` for
 * browsers. Failures count against the client's address together with failed HTTP requests.
 */
function authenticate(request: IncomingMessage, hookToken: string | undefined, failures: AuthFailureLimiter): string {
  const url = new URL(request.url ?? "/", "http://gateway");
  if (url.pathname !== WS_PATH) throw new AppError("not_found", `websocket endpoint is ${WS_PATH}`);
  if (hookToken !== undefined) {
    const address = normalizeAddress(request.socket.remoteAddress);
    failures.check(address);
    const bearer = /^Bearer\s+(.+)$/i.exec(header(request, "authorization") ?? "")?.[1]?.trim();
    const token = bearer || header(request, HOOK_TOKEN_HEADER)?.trim() || url.searchParams.get("token") || undefined;
    if (!token || !tokenMatches(token, hookToken)) {
      failures.fail(address);
      if (!token) throw new AppError("unauthorized", "missing gateway token");
      throw new AppError("invalid_token", "the gateway token is wrong");
    }
  }
  const tenant = header(request, TENANT_HEADER) ?? url.searchParams.get("tenant") ?? undefined;
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

/** The WebSocket interface for live clients: request/response/event frames, tenant bound at connect. */
export function createWsGateway(options: WsGatewayOptions): WsGateway {
  const server = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  const live = new Set<WebSocket>();
  return {
    handleUpgrade(request, socket, head) {
      let tenantId: string;
      try {
        tenantId = authenticate(request, options.hookToken, options.authFailures);
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
