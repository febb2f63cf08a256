import type { ModelInfo, SessionOwner, Usage } from "@workforce/protocol";
import type { PendingFile } from "./attachments";

export interface ErrorInfo {
  code: string;
  message: string;
  /** The server's word on whether asking again can work (Retry is offered only then). */
  retryable?: boolean | undefined;
  retryAfterSeconds?: number | undefined;
}

export interface TextPart {
  type: "text";
  text: string;
}

export interface ToolPart {
  type: "tool";
  toolCallId: string;
  name: string;
  input: unknown;
  output?: string;
  isError?: boolean;
  done: boolean;
}

export type AssistantPart = TextPart | ToolPart;

/** A file shown with a user's message: stored (it has an id) or still on its way (a local preview). */
export interface ShownAttachment {
  id?: string | undefined;
  name: string;
  mediaType: string;
  size: number;
  preview?: string | undefined;
}

export interface UserMessage {
  id: string;
  role: "user";
  text: string;
  runId?: string;
  attachments?: ShownAttachment[];
  /** The files as sent, kept in memory so Retry can send them again. */
  files?: PendingFile[];
}

/** `paused`: the run waits for a member to approve a tool call (issue 15); not an error. */
export type AssistantStatus = "streaming" | "ok" | "aborted" | "error" | "paused";

/** A tool call the run paused at, waiting for a decision (the `approval-required` event, or the session's pending approval). */
export interface PendingCall {
  approvalId: string;
  toolCallId: string;
  name: string;
  input: unknown;
  requestedAt: string;
  /** Once decided (here, in the inbox, by someone else, or by the timeout). */
  outcome?: { status: "approved" | "denied" | "expired"; by: string | null };
  /** A decision from this chat is on its way. */
  deciding?: boolean;
  error?: ErrorInfo;
}

export interface AssistantMessage {
  id: string;
  role: "assistant";
  parts: AssistantPart[];
  status: AssistantStatus;
  runId?: string;
  error?: ErrorInfo;
  usage?: Usage;
  model?: ModelInfo;
  /** Set when the run paused at a tool call in `ask` mode. */
  approval?: PendingCall;
}

export type ChatMessage = UserMessage | AssistantMessage;

/** The live connection of the run currently streaming into a conversation. */
export interface RunConnection {
  runId: string | undefined;
  lastSeq: number;
  state: "connecting" | "streaming" | "reconnecting" | "stopping";
  /** Reconnection attempt in progress (1-based) while `state` is "reconnecting". */
  attempt: number;
}

/** One agent's chat as the screen shows it. Replaced (never mutated) on every change. */
export interface Conversation {
  agent: string;
  sessionKey: string | undefined;
  /** Whose the open session is, once its history loaded; undefined for a new chat (the sender's). */
  owner: SessionOwner | undefined;
  messages: ChatMessage[];
  run: RunConnection | undefined;
  loadingHistory: boolean;
  error: ErrorInfo | undefined;
  model: ModelInfo | undefined;
  /** Bumped whenever the session list may have changed, so the sidebar refetches. */
  sessionsVersion: number;
}

export function emptyConversation(agent: string): Conversation {
  return {
    agent,
    sessionKey: undefined,
    owner: undefined,
    messages: [],
    run: undefined,
    loadingHistory: false,
    error: undefined,
    model: undefined,
    sessionsVersion: 0,
  };
}

/** An id that works outside secure contexts too (crypto.randomUUID needs https or localhost). */
export function randomId(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
