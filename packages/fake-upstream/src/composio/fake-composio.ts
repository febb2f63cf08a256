import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ComposioCreateAuthConfigBody, ComposioExecuteBody, ComposioLinkBody } from "@workforce/protocol";

/*
 * A local Composio of exactly the REST endpoints Workforce calls (API v3; shapes recorded from
 * Composio's OpenAPI document, see packages/protocol/src/composio-wire.ts). Like the real one it
 * checks `x-api-key` on every call and refuses to execute a tool with a connected account that is
 * not the `user_id`'s: the tenant-separation tests lean on that. Its hosted auth page
 * (`redirect_url` of a link) completes the connection as soon as a browser (or a test) opens it.
 */

export interface FakeComposioTool {
  slug: string;
  name?: string;
  description?: string;
  /** JSON schema of the arguments. Default: an object with a `title` string. */
  inputParameters?: Record<string, unknown>;
}

export interface FakeComposioToolkit {
  slug: string;
  name: string;
  description?: string;
  tools: FakeComposioTool[];
}

/** What one execution answers: data, a tool error, a hang until released, or a result of `bytes` characters. */
export type FakeExecution = { data: unknown } | { error: string } | { hang: true } | { bytes: number };

export interface FakeComposioAccount {
  id: string;
  userId: string;
  toolkit: string;
  authConfigId: string;
  status: "INITIATED" | "ACTIVE" | "FAILED" | "EXPIRED" | "INACTIVE";
  callbackUrl: string | undefined;
}

export interface FakeComposioExecution {
  tool: string;
  userId: string;
  connectedAccountId: string;
  arguments: Record<string, unknown>;
  version: string | undefined;
}

export interface FakeComposio {
  readonly url: string;
  readonly accounts: Map<string, FakeComposioAccount>;
  /** Executions Composio accepted (ran), oldest first. */
  readonly executions: FakeComposioExecution[];
  /** Executions refused because the connected account was not the user's. */
  readonly refusedExecutions: FakeComposioExecution[];
  /** Every request: method, path with query, and whether it carried the right key. */
  readonly requests: { method: string; path: string; authorised: boolean; body: string }[];
  /** How the next executions of `tool` answer (queue; default: `{ data: { ok: true, arguments } }`). */
  scriptExecution(tool: string, ...results: FakeExecution[]): void;
  /** An account of `userId` that has completed the hosted sign-in already (ACTIVE); answers its id. */
  addAccount(userId: string, toolkit: string): string;
  /** Answers every hanging execution (with `{ data: "released" }`). */
  releaseHanging(): void;
  /** Opens a link's hosted page as a browser would: the account turns ACTIVE; answers the callback URL (with Composio's query). */
  completeLink(redirectUrl: string): Promise<string>;
  close(): Promise<void>;
}

const DEFAULT_TOOLKITS: FakeComposioToolkit[] = [
  {
    slug: "github",
    name: "GitHub",
    description: "Code hosting",
    tools: [
      { slug: "GITHUB_CREATE_AN_ISSUE", description: "Create an issue in a repository" },
      { slug: "GITHUB_STAR_A_REPOSITORY", description: "Star a repository" },
    ],
  },
  { slug: "gmail", name: "Gmail", description: "Email by Google", tools: [{ slug: "GMAIL_SEND_EMAIL", description: "Send an email" }] },
];

function toolJson(toolkit: FakeComposioToolkit, tool: FakeComposioTool) {
  return {
    slug: tool.slug,
    name: tool.name ?? tool.slug,
    description: tool.description ?? tool.slug,
    toolkit: { slug: toolkit.slug, name: toolkit.name, logo: "" },
    input_parameters: tool.inputParameters ?? { type: "object", properties: { title: { type: "string" } } },
    version: "20250909_00",
    no_auth: false,
  };
}

function accountJson(account: FakeComposioAccount) {
  return {
    id: account.id,
    toolkit: { slug: account.toolkit },
    auth_config: { id: account.authConfigId, auth_scheme: "OAUTH2", is_composio_managed: true, is_disabled: false },
    user_id: account.userId,
    status: account.status,
    // The real answer carries the app's tokens here; a client that kept them would show in the tests.
    state: { authScheme: "OAUTH2", val: { status: account.status, access_token: "gho_fake_app_token_never_kept" } },
    status_reason: null,
    is_disabled: false,
  };
}

const page = (items: unknown[]) => ({ items, next_cursor: null, total_pages: 1, current_page: 1, total_items: items.length });

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}
const fail = (response: ServerResponse, status: number, message: string) => send(response, status, { error: { message, code: status * 10, status } });

/** Starts a fake Composio on a free loopback port; only `apiKey` is accepted. */
export async function startFakeComposio(options: { apiKey: string; toolkits?: FakeComposioToolkit[] }): Promise<FakeComposio> {
  const toolkits = options.toolkits ?? DEFAULT_TOOLKITS;
  const authConfigs = new Map<string, { id: string; toolkit: string }>();
  const accounts = new Map<string, FakeComposioAccount>();
  const links = new Map<string, string>();
  const scripts = new Map<string, FakeExecution[]>();
  const hanging: (() => void)[] = [];
  const executions: FakeComposioExecution[] = [];
  const refusedExecutions: FakeComposioExecution[] = [];
  const requests: FakeComposio["requests"] = [];
  let url = "";
  const toolkitOf = (slug: string) => toolkits.find((toolkit) => toolkit.slug === slug);

  async function execute(response: ServerResponse, slug: string, raw: string): Promise<void> {
    const body = ComposioExecuteBody.safeParse(JSON.parse(raw || "{}"));
    if (!body.success) return fail(response, 400, `invalid body: ${body.error.message}`);
    const call = { tool: slug, userId: body.data.user_id, connectedAccountId: body.data.connected_account_id, arguments: body.data.arguments, version: body.data.version };
    const account = accounts.get(call.connectedAccountId);
    if (!account || account.userId !== call.userId) {
      refusedExecutions.push(call);
      return fail(response, 400, `Connected account ${call.connectedAccountId} does not belong to user ${call.userId}`);
    }
    const toolkit = toolkits.find((candidate) => candidate.tools.some((tool) => tool.slug === slug));
    if (!toolkit) return fail(response, 404, `Tool ${slug} not found`);
    if (account.toolkit !== toolkit.slug || account.status !== "ACTIVE") return fail(response, 400, `Connected account ${account.id} cannot run ${slug}`);
    executions.push(call);
    const script = scripts.get(slug)?.shift() ?? { data: { ok: true, arguments: call.arguments } };
    if ("hang" in script) {
      await new Promise<void>((resolve) => hanging.push(resolve));
      return send(response, 200, { data: "released", error: null, successful: true, log_id: "log_fake" });
    }
    if ("error" in script) return send(response, 200, { data: {}, error: script.error, successful: false, log_id: "log_fake" });
    if ("bytes" in script) return send(response, 200, { data: { text: "x".repeat(script.bytes) }, error: null, successful: true, log_id: "log_fake" });
    send(response, 200, { data: script.data, error: null, successful: true, log_id: "log_fake" });
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const target = new URL(request.url ?? "/", url);
    const raw = await readBody(request);
    const authorised = request.headers["x-api-key"] === options.apiKey;
    requests.push({ method: request.method ?? "GET", path: `${target.pathname}${target.search}`, authorised, body: raw });
    const hosted = /^\/link\/([a-f0-9]+)$/.exec(target.pathname);
    if (hosted && request.method === "GET") {
      // Composio's hosted auth page: the user signs in to the app; back to the callback URL.
      const account = accounts.get(links.get(hosted[1] ?? "") ?? "");
      if (!account) return fail(response, 404, "link expired");
      account.status = "ACTIVE";
      const back = new URL(account.callbackUrl ?? `${url}/done`);
      back.searchParams.set("status", "success");
      back.searchParams.set("connected_account_id", account.id);
      response.writeHead(302, { location: back.toString() });
      return void response.end();
    }
    if (!authorised) return fail(response, 401, "Invalid API key");
    const path = target.pathname;
    const query = target.searchParams;
    const method = request.method ?? "GET";
    if (method === "GET" && path === "/api/v3/toolkits") {
      return send(response, 200, page(toolkits.map((toolkit) => ({ slug: toolkit.slug, name: toolkit.name, is_local_toolkit: false, composio_managed_auth_schemes: ["OAUTH2"], deprecated: { toolkitId: toolkit.slug }, meta: { description: toolkit.description ?? "", logo: `${url}/logos/${toolkit.slug}.png`, tools_count: toolkit.tools.length, triggers_count: 0, categories: [], created_at: "", updated_at: "", version: "1" } }))));
    }
    if (method === "GET" && path === "/api/v3/auth_configs") {
      const wanted = query.get("toolkit_slug")?.split(",");
      return send(response, 200, page([...authConfigs.values()].filter((config) => !wanted || wanted.includes(config.toolkit)).map((config) => ({ id: config.id, uuid: config.id, type: "default", toolkit: { slug: config.toolkit, logo: "" }, name: `${config.toolkit} auth`, auth_scheme: "OAUTH2", is_composio_managed: true, credentials: { client_secret: "never-kept" }, status: "ENABLED", no_of_connections: 0, tool_access_config: {} }))));
    }
    if (method === "POST" && path === "/api/v3/auth_configs") {
      const body = ComposioCreateAuthConfigBody.safeParse(JSON.parse(raw || "{}"));
      if (!body.success || !toolkitOf(body.data.toolkit.slug)) return fail(response, 400, "Toolkit not found or no managed auth");
      const id = `ac_${randomBytes(6).toString("hex")}`;
      authConfigs.set(id, { id, toolkit: body.data.toolkit.slug });
      return send(response, 201, { toolkit: { slug: body.data.toolkit.slug }, auth_config: { id, auth_scheme: "OAUTH2", is_composio_managed: true } });
    }
    if (method === "POST" && path === "/api/v3/connected_accounts/link") {
      const body = ComposioLinkBody.safeParse(JSON.parse(raw || "{}"));
      const config = body.success ? authConfigs.get(body.data.auth_config_id) : undefined;
      if (!body.success || !config) return fail(response, 400, "Auth config not found");
      const id = `ca_${randomBytes(6).toString("hex")}`;
      const token = randomBytes(8).toString("hex");
      accounts.set(id, { id, userId: body.data.user_id, toolkit: config.toolkit, authConfigId: config.id, status: "INITIATED", callbackUrl: body.data.callback_url });
      links.set(token, id);
      return send(response, 201, { link_token: `lt_${token}`, redirect_url: `${url}/link/${token}`, expires_at: new Date(Date.now() + 600_000).toISOString(), connected_account_id: id });
    }
    if (method === "GET" && path === "/api/v3/connected_accounts") {
      const users = query.get("user_ids")?.split(",");
      const kits = query.get("toolkit_slugs")?.split(",");
      return send(response, 200, page([...accounts.values()].filter((account) => (!users || users.includes(account.userId)) && (!kits || kits.includes(account.toolkit))).map(accountJson)));
    }
    const accountPath = /^\/api\/v3\/connected_accounts\/([A-Za-z0-9_]+)$/.exec(path);
    if (accountPath) {
      const account = accounts.get(accountPath[1] ?? "");
      if (!account) return fail(response, 404, "Connected account not found");
      if (method === "GET") return send(response, 200, accountJson(account));
      if (method === "DELETE") {
        accounts.delete(account.id);
        return send(response, 200, { success: true });
      }
    }
    if (method === "GET" && path === "/api/v3/tools") {
      const slugs = query.get("tool_slugs")?.split(",");
      const kit = query.get("toolkit_slug");
      const all = toolkits.flatMap((toolkit) => toolkit.tools.map((tool) => ({ toolkit, tool })));
      const chosen = all.filter(({ toolkit, tool }) => (slugs ? slugs.includes(tool.slug) : kit ? toolkit.slug === kit : true));
      return send(response, 200, page(chosen.map(({ toolkit, tool }) => toolJson(toolkit, tool))));
    }
    const executePath = /^\/api\/v3\/tools\/execute\/([A-Z0-9_]+)$/.exec(path);
    if (executePath && method === "POST") return execute(response, executePath[1] ?? "", raw);
    fail(response, 404, `No route ${method} ${path}`);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => fail(response, 500, error instanceof Error ? error.message : String(error)));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    get url() {
      return url;
    },
    accounts,
    executions,
    refusedExecutions,
    requests,
    scriptExecution(tool, ...results) {
      scripts.set(tool, [...(scripts.get(tool) ?? []), ...results]);
    },
    addAccount(userId, toolkit) {
      const id = `ca_${randomBytes(6).toString("hex")}`;
      accounts.set(id, { id, userId, toolkit, authConfigId: "ac_preset", status: "ACTIVE", callbackUrl: undefined });
      return id;
    },
    releaseHanging() {
      for (const release of hanging.splice(0)) release();
    },
    async completeLink(redirectUrl) {
      const response = await fetch(redirectUrl, { redirect: "manual" });
      return response.headers.get("location") ?? "";
    },
    async close() {
      for (const release of hanging.splice(0)) release();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
