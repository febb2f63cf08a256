import { readFile } from "node:fs/promises";
import { ClusterMembers } from "@workforce/protocol";
import { dataDirMarkerPath } from "@workforce/protocol/tenant-path";
import { portTaken, probePort } from "../port-probe";
import { fail, pass, skip, warn, type CheckResult, type DoctorContext } from "./doctor-check";
import type { DoctorSettings } from "./doctor-settings";

/** What answered on the platform's and the gateway's addresses, looked at once and shared by the checks. */
export interface RunningSystem {
  /** The platform's /api/health report (loopback callers get the details), when a Workforce platform answers. */
  platform?: { status: number; body: PlatformHealthBody };
  gateway?: GatewayAnswer;
}

interface PlatformHealthBody {
  status?: string;
  database?: { ok: boolean; error?: string };
  gateway?: { ok: boolean; error?: string };
  dataDir?: { ok: boolean; error?: string };
}

type GatewayAnswer =
  | { kind: "healthy"; dataDirPath?: string; instanceId?: string }
  | { kind: "token-rejected" }
  | { kind: "unhealthy"; code: string; message: string };

const SAME_TOKEN_FIX = "set the same CLAWDBOT_HOOK_TOKEN for the gateway and the platform, then restart both";
const SAME_DIR_FIX = "set the same absolute TENANT_DATA_DIR for the gateway and the platform, then restart both";

const authHeaders = (settings: DoctorSettings): Record<string, string> => (settings.hookToken ? { authorization: `Bearer ${settings.hookToken}` } : {});

async function getJson(context: DoctorContext, url: string, init: RequestInit = {}): Promise<{ status: number; body: unknown } | undefined> {
  try {
    const response = await context.fetch(url, { ...init, signal: AbortSignal.timeout(context.timeoutMs) });
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      body = undefined;
    }
    return { status: response.status, body };
  } catch {
    return undefined;
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null;

/** Asks both addresses who is there; nothing answering means configuration-only mode. */
export async function lookAtRunningSystem(context: DoctorContext, settings: DoctorSettings): Promise<RunningSystem> {
  const [platform, gateway] = await Promise.all([
    getJson(context, `http://127.0.0.1:${settings.port}/api/health`),
    getJson(context, `${settings.gatewayUrl}/`, { headers: authHeaders(settings) }),
  ]);
  const system: RunningSystem = {};
  if (platform && isRecord(platform.body) && "database" in platform.body && "gateway" in platform.body) {
    system.platform = { status: platform.status, body: platform.body };
  }
  if (gateway && isRecord(gateway.body)) {
    const body = gateway.body;
    const error = isRecord(body.error) ? body.error : undefined;
    if (body.service === "gateway" || (body.status === "ok" && !error)) {
      const dataDir = isRecord(body.dataDir) ? body.dataDir : {};
      system.gateway = {
        kind: "healthy",
        ...(typeof dataDir.path === "string" ? { dataDirPath: dataDir.path } : {}),
        ...(typeof dataDir.instanceId === "string" ? { instanceId: dataDir.instanceId } : {}),
      };
    } else if (gateway.status === 401 || gateway.status === 403) system.gateway = { kind: "token-rejected" };
    else if (error) system.gateway = { kind: "unhealthy", code: String(error.code), message: String(error.message) };
  }
  return system;
}

export const isLive = (system: RunningSystem) => system.platform !== undefined || system.gateway !== undefined;

/** Each port is free (nothing started yet) or held by this system; anything else is a conflict. */
export async function checkPorts(settings: DoctorSettings, system: RunningSystem): Promise<CheckResult[]> {
  const gateway = new URL(settings.gatewayUrl);
  const gatewayHost = gateway.hostname === "localhost" ? "127.0.0.1" : gateway.hostname.replace(/^\[|\]$/g, "");
  const gatewayPort = Number(gateway.port || 80);
  const targets = [
    { service: "platform", variable: "PORT", host: settings.host, port: settings.port, ours: system.platform !== undefined },
    { service: "gateway", variable: "CLAWDBOT_GATEWAY_URL", host: gatewayHost, port: gatewayPort, ours: system.gateway !== undefined },
  ];
  return Promise.all(
    targets.map(async ({ service, variable, host, port, ours }) => {
      const name = `${service} port`;
      if (ours) return pass(name, `${port} is held by the running Workforce ${service}`);
      const state = await probePort(host, port);
      if (state.state === "free") return pass(name, `${host}:${port} is free`);
      // Not bindable here may simply mean the gateway runs on another machine.
      if (state.state === "unavailable") return service === "gateway" ? skip(name, `${host}:${port} is not an address of this machine (${state.code})`) : fail(name, `cannot listen on ${host}:${port} (${state.code})`, `set HOST to an address of this machine`);
      const taken = portTaken(service, variable, host, port);
      return fail(name, taken.cause, taken.fix);
    }),
  );
}

/** The gateway answers, accepts the platform's token, and serves the platform's TENANT_DATA_DIR. */
export async function checkGateway(context: DoctorContext, settings: DoctorSettings, system: RunningSystem): Promise<CheckResult[]> {
  const gateway = system.gateway;
  if (!gateway) return [skip("gateway", `nothing answers at ${settings.gatewayUrl}: configuration-only checks`)];
  if (gateway.kind === "unhealthy") {
    return [fail("gateway", `the gateway at ${settings.gatewayUrl} is unhealthy: ${gateway.code}: ${gateway.message}`, "see the gateway's log; for storage_* codes check that TENANT_DATA_DIR is mounted and writable, then restart the gateway")];
  }
  const results: CheckResult[] = [pass("gateway", `answers at ${settings.gatewayUrl}`)];
  // GET / answers a local caller without a token; an authenticated no-op proves the token.
  const probe = await getJson(context, `${settings.gatewayUrl}/v1/usage/pending`, {
    method: "POST",
    headers: { ...authHeaders(settings), "content-type": "application/json" },
    body: JSON.stringify({ cursors: [] }),
  });
  if (gateway.kind === "token-rejected" || probe?.status === 401 || probe?.status === 403) {
    results.push(
      fail(
        "hook token",
        settings.hookToken ? "the gateway rejects this CLAWDBOT_HOOK_TOKEN (every chat would fail)" : "the gateway requires a token and CLAWDBOT_HOOK_TOKEN is not set here (every chat would fail)",
        SAME_TOKEN_FIX,
      ),
    );
    return results;
  }
  if (probe?.status !== 200) results.push(warn("hook token", `the gateway answered the token probe with ${probe ? `HTTP ${probe.status}` : "nothing"}`, "see the gateway's log"));
  else results.push(pass("hook token", settings.hookToken ? "the gateway accepts CLAWDBOT_HOOK_TOKEN" : "the gateway runs without a token (loopback only)"));
  results.push(await checkSameDataDir(settings, gateway));
  results.push(await checkClusterMembers(context, settings));
  return results;
}

/** With REDIS_URL the gateways list each other (decision 027): how many are live, and where the platform reaches them. */
async function checkClusterMembers(context: DoctorContext, settings: DoctorSettings): Promise<CheckResult> {
  const name = "gateway cluster";
  const answer = await getJson(context, `${settings.gatewayUrl}/v1/cluster/members`, { headers: authHeaders(settings) });
  const parsed = ClusterMembers.safeParse(answer?.body);
  if (answer?.status === 404) return skip(name, "this gateway lists no cluster members (an older version)");
  if (!parsed.success) return warn(name, `the gateway could not list its cluster members (${answer ? `HTTP ${answer.status}` : "no answer"})`, "see the gateway's log; in cluster mode check that Redis (REDIS_URL) is reachable");
  const { clustered, members } = parsed.data;
  if (!clustered) return skip(name, "one gateway (no REDIS_URL on it)");
  return pass(name, `${members.length} live gateway${members.length === 1 ? "" : "s"}: ${members.map((member) => member.url).join(", ")}`);
}

/** The guide's "TENANT_DATA_DIR set identically for both" (and its "Unknown error"). */
async function checkSameDataDir(settings: DoctorSettings, gateway: Extract<GatewayAnswer, { kind: "healthy" }>): Promise<CheckResult> {
  const name = "same data dir";
  if (gateway.dataDirPath === undefined) return skip(name, "the gateway shows its data dir only to the token holder or a local caller");
  let instanceId: string | undefined;
  try {
    const marker = JSON.parse(await readFile(dataDirMarkerPath(settings.tenantDataDir), "utf8")) as { instanceId?: unknown };
    instanceId = typeof marker.instanceId === "string" ? marker.instanceId : undefined;
  } catch {
    instanceId = undefined;
  }
  if (gateway.dataDirPath !== settings.tenantDataDir || instanceId !== gateway.instanceId) {
    const seen = instanceId === undefined ? "which holds no gateway marker" : `instance ${instanceId}`;
    return fail(
      name,
      `TENANT_DATA_DIR differs: the gateway serves ${gateway.dataDirPath} (instance ${gateway.instanceId ?? "?"}), this environment names ${settings.tenantDataDir} (${seen}); agents and chats fail with "Unknown error"`,
      SAME_DIR_FIX,
    );
  }
  return pass(name, `gateway and platform both use ${settings.tenantDataDir} (instance ${instanceId})`);
}

/** The running platform's own view (/api/health): database, gateway, data dir. */
export function checkPlatformHealth(settings: DoctorSettings, system: RunningSystem): CheckResult {
  const platform = system.platform;
  if (!platform) return skip("platform health", `nothing answers at http://127.0.0.1:${settings.port}/api/health: configuration-only checks`);
  if (platform.body.status === "ok") return pass("platform health", "/api/health is ok");
  const reasons = [
    platform.body.database?.ok === false ? `database: ${platform.body.database.error ?? "not ok"}` : undefined,
    platform.body.gateway?.ok === false ? `gateway: ${platform.body.gateway.error ?? "not ok"}` : undefined,
    platform.body.dataDir?.ok === false ? `data dir: ${platform.body.dataDir.error ?? "not ok"}` : undefined,
  ].filter((reason) => reason !== undefined);
  return fail("platform health", `/api/health is ${platform.body.status ?? platform.status}: ${reasons.join("; ") || "no details"}`, "fix the causes named above (the other checks say how), then restart the platform");
}
