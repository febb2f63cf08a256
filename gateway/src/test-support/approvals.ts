import path from "node:path";
import { readFile } from "node:fs/promises";
import type { FakeUpstream } from "@workforce/fake-upstream";
import { SessionHistory, TranscriptLine, UsageJournalPage, type ApprovalRequiredEvent, type RunEvent, type RunIntegrationsInput, type UsageRecord } from "@workforce/protocol";
import { createProviders } from "../llm/create-providers";
import { readRunEvents, startTestGateway, TENANT_A, type TestGateway } from "./test-gateway";

/** Tool approvals' tests (issue 15): a real gateway speaking to the fake Anthropic upstream. */

/** What the platform sends for an agent whose writes need a member's approval. */
export const ASK_BEFORE_WRITING: RunIntegrationsInput = { toolModes: { write_file: "ask" } };

export const SSE = { accept: "text/event-stream" };

export async function approvalsGateway(upstream: FakeUpstream, options: Parameters<typeof startTestGateway>[0] = {}): Promise<TestGateway> {
  const providers = createProviders({ anthropic: { apiKey: "test-key", baseURL: upstream.url }, openai: undefined });
  return startTestGateway({ providers, ...options, config: { defaultModel: "claude-fake-1", ...options.config } });
}

export interface SendOptions {
  sessionKey?: string;
  integrations?: RunIntegrationsInput | undefined;
  tenant?: string;
  headers?: Record<string, string>;
}

export function sendMessage(h: TestGateway, message: string, options: SendOptions = {}): Promise<Response> {
  const integrations = "integrations" in options ? options.integrations : ASK_BEFORE_WRITING;
  const body = { message, sessionKey: options.sessionKey ?? "s", ...(integrations ? { integrations } : {}) };
  return h.request("POST", "/v1/agents/ada/runs", { tenant: options.tenant ?? TENANT_A, body, headers: { ...SSE, ...options.headers } });
}

export async function sent(h: TestGateway, message: string, options: SendOptions = {}): Promise<RunEvent[]> {
  return readRunEvents(await sendMessage(h, message, options));
}

export function decide(h: TestGateway, approvalId: string, body: Record<string, unknown>, options: Omit<SendOptions, "integrations"> = {}): Promise<Response> {
  const url = `/v1/agents/ada/sessions/${options.sessionKey ?? "s"}/approvals/${approvalId}`;
  return h.request("POST", url, { tenant: options.tenant ?? TENANT_A, body: { integrations: ASK_BEFORE_WRITING, ...body }, headers: { ...SSE, ...options.headers } });
}

export function approvalOf(events: readonly RunEvent[]): ApprovalRequiredEvent {
  const found = events.find((event): event is ApprovalRequiredEvent => event.type === "approval-required");
  if (!found) throw new Error(`no approval-required among ${events.map((event) => event.type).join(", ")}`);
  return found;
}

export async function historyOf(h: TestGateway, sessionKey = "s", tenant = TENANT_A): Promise<SessionHistory> {
  return SessionHistory.parse(await (await h.request("GET", `/v1/agents/ada/sessions/${sessionKey}`, { tenant })).json());
}

/** Every line of a session's transcript file after its header, as written. */
export async function transcriptLines(h: TestGateway, sessionId: string, tenant = TENANT_A): Promise<TranscriptLine[]> {
  const text = await readFile(path.join(h.dataDir, tenant, "agents", "ada", "sessions", `${sessionId}.jsonl`), "utf8");
  return text.trim().split("\n").slice(1).map((line) => TranscriptLine.parse(JSON.parse(line)));
}

/** The tenant's usage records once `count` are journaled (written just after each run ends). */
export async function journalRecords(h: TestGateway, count: number, tenant = TENANT_A): Promise<UsageRecord[]> {
  for (;;) {
    const page = UsageJournalPage.parse(await (await h.request("GET", "/v1/usage/journal?after=0", { tenant })).json());
    if (page.entries.length >= count) return page.entries.map((entry) => entry.record);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export const workspaceFile = (h: TestGateway, name: string, tenant = TENANT_A) => path.join(h.dataDir, tenant, "workspace", "ada", name);

/** The body of the model request at `index` as the fake upstream received it (Anthropic Messages). */
export function modelRequest(upstream: FakeUpstream, index: number): { tools: { name: string }[]; messages: { role: string; content: unknown }[] } {
  const request = upstream.requests.filter((recorded) => recorded.path === "/v1/messages")[index];
  if (!request) throw new Error(`the upstream got no model request #${index}`);
  return request.body as { tools: { name: string }[]; messages: { role: string; content: unknown }[] };
}

/** The tool results the model was given in the last message of request `index`. */
export function toolResultsSent(upstream: FakeUpstream, index: number): { tool_use_id: string; content: string; is_error?: boolean }[] {
  const last = modelRequest(upstream, index).messages.at(-1);
  const content = Array.isArray(last?.content) ? (last.content as { type: string }[]) : [];
  return content.filter((block) => block.type === "tool_result") as unknown as { tool_use_id: string; content: string; is_error?: boolean }[];
}
