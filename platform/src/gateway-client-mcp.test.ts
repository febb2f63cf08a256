/**
 * The platform's side of the gateway's MCP probe: the server's connection settings go to
 * `POST /v1/integrations/mcp/tools` for the tenant, and a server wanting authorisation comes back
 * as McpAuthRequired with the URL OAuth starts at. The gateway's side is tested against a real MCP
 * server in gateway/src/tools/mcp/mcp-tools.test.ts; here a local server answers as it does.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { AppError, McpServerConnection, TENANT_HEADER, type McpToolsAnswer, type McpToolsErrorBody } from "@workforce/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { createGatewayClient, McpAuthRequired } from "./gateway-client";

const tenantId = "11111111-2222-4333-8444-555555555555";
const server = {
  serverId: "0b0b0b0b-0000-4000-8000-000000000001",
  namespace: "docs",
  transport: "streamable-http" as const,
  url: "https://mcp.example.com/mcp",
  headers: { Authorization: "Bearer secret-value" },
  revision: "r1",
};
let gateway: http.Server | undefined;
const received: { path: string | undefined; tenant: string | undefined; body: unknown }[] = [];

async function fakeGateway(status: number, answer: unknown): Promise<string> {
  gateway = http.createServer((request, response) => {
    let text = "";
    request.on("data", (chunk: Buffer) => (text += chunk.toString()));
    request.on("end", () => {
      received.push({ path: request.url, tenant: request.headers[TENANT_HEADER] as string | undefined, body: JSON.parse(text) });
      response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => gateway!.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
}

afterEach(async () => {
  received.length = 0;
  const open = gateway;
  gateway = undefined;
  if (open) await new Promise((resolve) => open.close(resolve));
});

describe("gatewayClient.listMcpTools", () => {
  it("sends the server's connection settings for the tenant and returns its tools", async () => {
    const answer: McpToolsAnswer = { server: { name: "docs", version: "1.0.0" }, tools: [{ name: "search", description: "Searches.", inputSchema: { type: "object" } }], omitted: [] };
    const client = createGatewayClient({ baseUrl: await fakeGateway(200, answer), hookToken: undefined });
    expect(await client.listMcpTools(tenantId, server)).toEqual(answer);
    expect(received[0]).toMatchObject({ path: "/v1/integrations/mcp/tools", tenant: tenantId });
    expect(McpServerConnection.parse(received[0]!.body)).toEqual(server);
  });

  it("throws McpAuthRequired with the resource-metadata URL when the server wants authorising", async () => {
    const body: McpToolsErrorBody = {
      error: { code: "mcp_auth_required", message: 'MCP server "docs" refused the credentials', resourceMetadataUrl: "https://mcp.example.com/.well-known/oauth-protected-resource" },
    };
    const client = createGatewayClient({ baseUrl: await fakeGateway(502, body), hookToken: undefined });
    const error = await client.listMcpTools(tenantId, server).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(McpAuthRequired);
    expect(error).toMatchObject({ code: "mcp_auth_required", resourceMetadataUrl: "https://mcp.example.com/.well-known/oauth-protected-resource" });
  });

  it("passes other failures on with the gateway's code", async () => {
    const client = createGatewayClient({ baseUrl: await fakeGateway(502, { error: { code: "mcp_unavailable", message: 'MCP server "docs" could not be reached' } }), hookToken: undefined });
    const error = await client.listMcpTools(tenantId, server).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AppError);
    expect(error).not.toBeInstanceOf(McpAuthRequired);
    expect(error).toMatchObject({ code: "mcp_unavailable", status: 502 });
  });
});
