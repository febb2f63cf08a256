import { createHash } from "node:crypto";
import { AppError, ComposioErrorBody, ComposioExecuteResult, ComposioTool, composioPage, type RunComposio, type RunComposioTool } from "@workforce/protocol";
import type { Logger } from "../../logger";
import type { RunToolSource, RunToolset } from "../run-tools";
import type { Tool } from "../tool";

/*
 * Composio tools for a run (issue 14): the platform grants the run tools by slug, each with the
 * organisation's own connected account, and the operator's key (`RunIntegrations.composio`). This
 * source reads their schemas from Composio (cached, bounded), offers them to the model under their
 * slugs, and executes them through Composio as the run's user (our tenant id) with the granted
 * connected account. Requests (Composio's OpenAPI document, ComposioHQ/composio
 * docs/public/openapi.json; https://docs.composio.dev/reference/api-reference/tools):
 *   GET  /api/v3/tools?tool_slugs=A,B&toolkit_versions=latest   "List available tools"
 *   POST /api/v3/tools/execute/{tool_slug}                       "Execute tool"
 *        { user_id, connected_account_id, arguments, version }  (the SDK's tools.execute, models/Tools.ts)
 * The API key travels only in the `x-api-key` header; no message or log line carries it.
 */

export interface ComposioToolSourceOptions {
  logger: Logger;
  /** Outgoing requests: the SSRF-guarded fetch in production. */
  fetch: typeof fetch;
  /** How long one execution may take; default 60 s. */
  toolTimeoutMs?: number;
  /** How long listing the tools' schemas may take before the run goes without them; default 10 s. */
  listTimeoutMs?: number;
  /** The largest execution answer read (bytes); default 1 MiB. */
  maxResultBytes?: number;
  /** How long a tool's schema is reused; default 10 min. */
  schemaTtlMs?: number;
  /** Schemas kept at most (oldest dropped first); default 2,000. */
  maxCachedSchemas?: number;
  now?: () => number;
}

const Tools = composioPage(ComposioTool);
/** Slugs asked for in one listing request. */
const LIST_BATCH = 50;

/** Reads at most `limit` bytes of a body; undefined when it is longer. */
async function readCapped(response: Response, limit: number): Promise<string | undefined> {
  const declared = Number(response.headers.get("content-length") ?? "NaN");
  if (declared > limit) {
    await response.body?.cancel();
    return undefined;
  }
  if (!response.body) return "";
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const chunk = await reader.read();
    if (chunk.done) break;
    const value = chunk.value;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function createComposioToolSource(options: ComposioToolSourceOptions): RunToolSource {
  const { logger } = options;
  const toolTimeoutMs = options.toolTimeoutMs ?? 60_000;
  const listTimeoutMs = options.listTimeoutMs ?? 10_000;
  const maxResultBytes = options.maxResultBytes ?? 1024 * 1024;
  const schemaTtlMs = options.schemaTtlMs ?? 10 * 60_000;
  const maxCachedSchemas = options.maxCachedSchemas ?? 2_000;
  const now = options.now ?? Date.now;
  /** By Composio project (a hash of base URL and key: never the key itself) and slug. */
  const schemas = new Map<string, { tool: ComposioTool; expiresAt: number }>();

  const projectOf = (composio: RunComposio) => createHash("sha256").update(`${composio.baseUrl}\n${composio.apiKey}`).digest("hex").slice(0, 16);
  const endpoint = (composio: RunComposio, path: string) => new URL(`${composio.baseUrl.replace(/\/+$/, "")}${path}`);

  function remember(project: string, tool: ComposioTool): void {
    const key = `${project}:${tool.slug}`;
    schemas.delete(key);
    schemas.set(key, { tool, expiresAt: now() + schemaTtlMs });
    while (schemas.size > maxCachedSchemas) {
      const oldest = schemas.keys().next().value;
      if (oldest === undefined) break;
      schemas.delete(oldest);
    }
  }

  async function schemasOf(composio: RunComposio, slugs: readonly string[], signal: AbortSignal): Promise<Map<string, ComposioTool>> {
    const project = projectOf(composio);
    const found = new Map<string, ComposioTool>();
    const missing: string[] = [];
    for (const slug of slugs) {
      const cached = schemas.get(`${project}:${slug}`);
      if (cached && cached.expiresAt > now()) found.set(slug, cached.tool);
      else missing.push(slug);
    }
    for (let start = 0; start < missing.length; start += LIST_BATCH) {
      const batch = missing.slice(start, start + LIST_BATCH);
      const url = endpoint(composio, "/api/v3/tools");
      url.searchParams.set("tool_slugs", batch.join(","));
      url.searchParams.set("toolkit_versions", "latest");
      url.searchParams.set("limit", String(batch.length));
      const response = await options.fetch(url, {
        headers: { "x-api-key": composio.apiKey, accept: "application/json" },
        signal: AbortSignal.any([signal, AbortSignal.timeout(listTimeoutMs)]),
      });
      const text = await readCapped(response, 8 * 1024 * 1024);
      if (!response.ok || text === undefined) throw new Error(`Composio answered ${response.status} when listing tools`);
      const page = Tools.safeParse(parseJson(text));
      if (!page.success) throw new Error("Composio's tool list has an unexpected shape");
      for (const tool of page.data.items) {
        if (!batch.includes(tool.slug)) continue;
        remember(project, tool);
        found.set(tool.slug, tool);
      }
    }
    return found;
  }

  async function execute(composio: RunComposio, grant: RunComposioTool, tool: ComposioTool, input: unknown, signal: AbortSignal): Promise<string> {
    const args = input !== null && typeof input === "object" && !Array.isArray(input) ? (input as Record<string, unknown>) : {};
    const timeout = AbortSignal.timeout(toolTimeoutMs);
    let response: Response;
    try {
      response = await options.fetch(endpoint(composio, `/api/v3/tools/execute/${encodeURIComponent(grant.slug)}`), {
        method: "POST",
        headers: { "x-api-key": composio.apiKey, "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ user_id: composio.userId, connected_account_id: grant.connectedAccountId, arguments: args, ...(tool.version ? { version: tool.version } : {}) }),
        signal: AbortSignal.any([signal, timeout]),
      });
    } catch (error) {
      if (signal.aborted) throw error;
      if (timeout.aborted) throw new AppError("composio_tool_timeout", `${grant.slug} did not answer within ${Math.round(toolTimeoutMs / 1000)} s`, { cause: error });
      throw new AppError("composio_unavailable", `Composio could not be reached to run ${grant.slug}`, { cause: error });
    }
    let text: string | undefined;
    try {
      text = await readCapped(response, maxResultBytes);
    } catch (error) {
      if (signal.aborted) throw error;
      if (timeout.aborted) throw new AppError("composio_tool_timeout", `${grant.slug} did not answer within ${Math.round(toolTimeoutMs / 1000)} s`, { cause: error });
      throw new AppError("composio_unavailable", `Composio's answer for ${grant.slug} broke off`, { cause: error });
    }
    if (text === undefined) throw new AppError("composio_result_too_large", `${grant.slug} answered more than ${maxResultBytes} bytes`);
    const body = parseJson(text);
    if (!response.ok) {
      const detail = ComposioErrorBody.safeParse(body).data?.error.message ?? `HTTP ${response.status}`;
      if (response.status === 401 || response.status === 403) throw new AppError("composio_unavailable", `Composio refused the installation's key (${response.status})`);
      if (response.status >= 500) throw new AppError("composio_unavailable", `Composio failed to run ${grant.slug} (${response.status}): ${detail.slice(0, 500)}`);
      throw new AppError("composio_tool_failed", `Composio refused to run ${grant.slug}: ${detail.slice(0, 500)}`);
    }
    const result = ComposioExecuteResult.safeParse(body);
    if (!result.success) throw new AppError("composio_unavailable", `Composio answered ${grant.slug} with an unexpected body`);
    if (!result.data.successful) throw new AppError("composio_tool_failed", `${grant.slug} failed: ${(result.data.error ?? "no reason given").slice(0, 1000)}`);
    return JSON.stringify(result.data.data ?? null);
  }

  return {
    async open(request): Promise<RunToolset> {
      const composio = request.integrations.composio;
      // `ask` grants are offered too: the agent loop pauses each of their calls for a member's approval (issue 15).
      const grants = composio?.tools ?? [];
      if (!composio || grants.length === 0) return { tools: [], close: () => undefined };
      const found = await schemasOf(composio, [...new Set(grants.map((grant) => grant.slug))], request.signal);
      const tools: Tool[] = [];
      for (const grant of grants) {
        const tool = found.get(grant.slug);
        if (!tool) {
          logger.warn(`run ${request.runId}: Composio has no tool ${grant.slug}; it is not offered`);
          continue;
        }
        tools.push({
          spec: { name: grant.slug, description: `${tool.description} (${tool.toolkit.slug}, through Composio)`.slice(0, 4000), inputSchema: { type: "object", ...tool.input_parameters } },
          grantMode: grant.mode,
          execute: (input, context) => execute(composio, grant, tool, input, context.signal),
        });
      }
      return { tools, close: () => undefined };
    },
  };
}
