import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { RunEvent, SseParser } from "@workforce/protocol";
import { prepareDataDir } from "../data-dir";
import { createGateway, type Gateway, type GatewayOptions } from "../gateway";
import { createConsoleLogger } from "../logger";

export const TENANT_A = "11111111-1111-4111-8111-111111111111";
export const TENANT_B = "22222222-2222-4222-8222-222222222222";

export interface TestGateway {
  gateway: Gateway;
  dataDir: string;
  instanceId: string;
  request(method: string, url: string, options?: { tenant?: string | null; body?: unknown; headers?: Record<string, string> }): Promise<Response>;
  createAgent(tenant: string, body?: Record<string, unknown>): Promise<Response>;
  cleanup(): Promise<void>;
}

/** A gateway on a fresh temporary TENANT_DATA_DIR, offline model without delays, auth off unless a token is given. */
export async function startTestGateway(
  overrides: Partial<Omit<GatewayOptions, "config" | "dataDir">> & {
    hookToken?: string;
    config?: Partial<GatewayOptions["config"]>;
    /** Serve this existing TENANT_DATA_DIR (a restart, or a second gateway on shared storage); the caller removes it. */
    dataDir?: string;
  } = {},
): Promise<TestGateway> {
  const ownsDataDir = overrides.dataDir === undefined;
  const dataDir = overrides.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), "gateway-test-")));
  const prepared = await prepareDataDir(dataDir);
  const { hookToken, config, dataDir: _dataDir, ...rest } = overrides;
  const gateway = createGateway({
    config: {
      dataDir,
      hookToken,
      defaultModel: "offline",
      offlineTokenDelayMs: 0,
      runTimeoutMs: 30_000,
      maxConcurrentRuns: 8,
      ...config,
    },
    dataDir: prepared,
    logger: createConsoleLogger("[test-gateway]"),
    ...rest,
  });
  const request: TestGateway["request"] = (method, url, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.tenant !== null) headers["x-tenant-id"] = options.tenant ?? TENANT_A;
    if (hookToken && !("authorization" in headers)) headers.authorization = `Bearer ${hookToken}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
      headers["content-type"] = "application/json";
    }
    return Promise.resolve(gateway.app.request(url, { method, headers, ...(body === undefined ? {} : { body }) }));
  };
  return {
    gateway,
    dataDir,
    instanceId: prepared.instanceId,
    request,
    createAgent: (tenant, body = {}) =>
      request("POST", "/v1/agents", { tenant, body: { name: "Ada", role: "Research Analyst", persona: "Curious and precise. Loves footnotes.", ...body } }),
    async cleanup() {
      await gateway.close();
      if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Reads an SSE response to its end and returns the run events in order. */
export async function readRunEvents(response: Response): Promise<RunEvent[]> {
  const parser = new SseParser();
  const text = await response.text();
  return parser.push(text).map((message) => RunEvent.parse(JSON.parse(message.data)));
}

export function replyText(events: readonly RunEvent[]): string {
  return events.flatMap((event) => (event.type === "text-delta" ? [event.delta] : [])).join("");
}
