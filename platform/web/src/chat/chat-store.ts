import type { ApprovalView, ModelInfo, PendingApproval } from "@workforce/protocol";
import type { PendingFile } from "./attachments";
import { ApiError, toErrorDetail } from "../api/api-error";
import type { ApiClient } from "../api/client";
import { applyRunEvent, messagesFromTranscript } from "./apply-event";
import { emptyConversation, randomId, type AssistantMessage, type ChatMessage, type Conversation, type PendingCall } from "./chat-types";
import { followRun, type ReconnectPolicy } from "./follow-run";
import { InflightStorage, type InflightRun } from "./inflight-storage";

export interface ChatStoreOptions {
  api: ApiClient;
  /** Told when a tool call was decided from a chat, so the approvals' counts and lists read again. */
  onDecided?: () => void;
  /** How often, and how many times, to ask whether the gateway took a decision yet (the platform retries it meanwhile). */
  resumePoll?: { intervalMs: number; attempts: number };
  tenantId: () => string | undefined;
  inflight?: InflightStorage;
  /** Told about the model of every run, so the app can show the offline banner. */
  onModel?: (model: ModelInfo) => void;
  policy?: ReconnectPolicy;
}

export type ChatStore = ReturnType<typeof createChatStore>;

/**
 * All chats, kept in a module-level store outside React. Components read a conversation with
 * `useSyncExternalStore`; streams are owned here, so re-renders, unmounts and route changes never
 * cancel or re-open them (the guide's "SSE disconnects immediately" bug).
 */
export function createChatStore(options: ChatStoreOptions) {
  const { api } = options;
  const inflight = options.inflight ?? new InflightStorage();
  const conversations = new Map<string, Conversation>();
  const controllers = new Map<string, AbortController>();
  /** Conversations whose history is loading before a resumed stream starts; guards against a second resume. */
  const resuming = new Set<string>();
  /** Approvals whose decision's run this tab follows (or followed). */
  const followed = new Set<string>();
  const listeners = new Set<() => void>();

  const keyOf = (agent: string) => `${options.tenantId() ?? ""}/${agent}`;

  function get(agent: string): Conversation {
    const key = keyOf(agent);
    let conversation = conversations.get(key);
    if (!conversation) {
      conversation = emptyConversation(agent);
      conversations.set(key, conversation);
    }
    return conversation;
  }

  function update(key: string, change: (conversation: Conversation) => Conversation): void {
    const current = conversations.get(key);
    if (!current) return;
    conversations.set(key, change(current));
    for (const listener of listeners) listener();
  }

  function updateAssistant(key: string, messageId: string, change: (message: AssistantMessage) => AssistantMessage): void {
    update(key, (conversation) => ({
      ...conversation,
      messages: conversation.messages.map((message) =>
        message.id === messageId && message.role === "assistant" ? change(message) : message,
      ),
    }));
  }

  /** Streams one run into the assistant bubble `messageId` until it ends, however often the connection drops. */
  async function stream(
    key: string,
    agent: string,
    messageId: string,
    record: Omit<InflightRun, "runId" | "lastSeq">,
    from: { start?: (signal: AbortSignal) => Promise<Response>; runId?: string; userMessageId?: string },
  ): Promise<void> {
    const controller = new AbortController();
    controllers.set(key, controller);
    let runId = from.runId;
    let lastSeq = 0;
    const persist = () => {
      if (runId) inflight.save({ ...record, runId, lastSeq });
    };
    update(key, (conversation) => ({ ...conversation, error: undefined, run: { runId, lastSeq, state: "connecting", attempt: 0 } }));

    const outcome = await followRun({
      ...(from.start ? { start: from.start } : {}),
      ...(runId ? { runId } : {}),
      reconnect: (id, seq, signal) => api.runEvents(id, seq, signal),
      signal: controller.signal,
      ...(options.policy ? { policy: options.policy } : {}),
      onRunId(id) {
        runId = id;
        persist();
        update(key, (conversation) => ({
          ...conversation,
          ...(conversation.run ? { run: { ...conversation.run, runId: id } } : {}),
          // The message this run answers: an edit or regenerate names it by its run (decision 041).
          messages: conversation.messages.map((message) => (message.id === from.userMessageId && message.role === "user" ? { ...message, runId: id } : message)),
        }));
      },
      onConnection(state, attempt) {
        update(key, (conversation) =>
          conversation.run && conversation.run.state !== "stopping"
            ? { ...conversation, run: { ...conversation.run, state, attempt } }
            : conversation,
        );
      },
      onEvent(event) {
        lastSeq = event.seq;
        if (event.type === "run-start") {
          record = { ...record, sessionKey: event.sessionKey };
          options.onModel?.(event.model);
          update(key, (conversation) => ({
            ...conversation,
            sessionKey: event.sessionKey,
            model: event.model,
            sessionsVersion: conversation.sessionsVersion + 1,
          }));
        }
        persist();
        updateAssistant(key, messageId, (message) => applyRunEvent(message, event));
        update(key, (conversation) => (conversation.run ? { ...conversation, run: { ...conversation.run, lastSeq: event.seq } } : conversation));
      },
    });

    if (controllers.get(key) === controller) controllers.delete(key);
    if (runId) inflight.remove(runId);

    if (outcome.kind === "aborted") {
      updateAssistant(key, messageId, (message) =>
        message.status === "streaming" ? { ...message, status: "aborted", error: { code: "aborted", message: "Stopped." } } : message,
      );
    } else if (outcome.kind === "failed") {
      if (outcome.error.code === "run_not_found" && record.sessionKey) {
        // The run is gone from the server's replay log: its transcript is the truth now.
        await load(key, agent, record.sessionKey);
      } else {
        const error = toErrorDetail(outcome.error);
        updateAssistant(key, messageId, (message) => ({ ...message, status: "error", error }));
      }
    }
    update(key, (conversation) => ({ ...conversation, run: undefined, sessionsVersion: conversation.sessionsVersion + 1 }));
  }

  async function load(key: string, agent: string, sessionKey: string): Promise<ChatMessage[] | undefined> {
    update(key, (conversation) => ({ ...conversation, sessionKey, owner: undefined, loadingHistory: true, error: undefined }));
    try {
      const history = await api.getSession(agent, sessionKey);
      const messages = withPendingApproval(messagesFromTranscript(history.entries), history.pendingApproval);
      update(key, (conversation) => ({ ...conversation, messages, owner: history.owner, loadingHistory: false }));
      return messages;
    } catch (error) {
      const notFound = error instanceof ApiError && error.code === "session_not_found";
      // A missing session is kept as its error: the screen shows a not-found state, not a blank chat.
      update(key, (conversation) => ({ ...conversation, messages: [], loadingHistory: false, error: toErrorDetail(error) }));
      return notFound ? [] : undefined;
    }
  }

  function patchApproval(key: string, approvalId: string, change: (call: PendingCall) => PendingCall): AssistantMessage | undefined {
    const message = conversations.get(key)?.messages.find((each): each is AssistantMessage => each.role === "assistant" && each.approval?.approvalId === approvalId);
    if (message) updateAssistant(key, message.id, (current) => (current.approval ? { ...current, approval: change(current.approval) } : current));
    return message;
  }

  /**
   * A tool call of this chat was decided (here or elsewhere): the card says how, and the run the
   * decision started streams into a new reply. The gateway may take the decision a moment later
   * (the platform retries it), so its run is asked for a few times.
   */
  async function continueAfter(agent: string, approval: ApprovalView): Promise<void> {
    const key = keyOf(agent);
    const tenantId = options.tenantId();
    if (approval.status === "pending" || !tenantId) return;
    const outcome = { status: approval.status, by: approval.decidedBy?.label ?? null };
    const paused = patchApproval(key, approval.id, (call) => ({ ...call, outcome, deciding: false, error: undefined }));
    if (!paused || followed.has(approval.id)) return;
    followed.add(approval.id);
    const poll = options.resumePoll ?? { intervalMs: 1_000, attempts: 30 };
    let runId = approval.resume.runId;
    for (let attempt = 0; !runId && attempt < poll.attempts; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, poll.intervalMs));
      runId = (await api.approvals.get(approval.id).catch(() => undefined))?.resume.runId ?? null;
    }
    if (!runId) {
      followed.delete(approval.id);
      patchApproval(key, approval.id, (call) => ({ ...call, error: { code: "resume_pending", message: "The agent has not carried on yet; it will as soon as its server takes the decision. Reload to see it." } }));
      return;
    }
    if (controllers.has(key) || get(agent).messages.some((message) => message.role === "assistant" && message.runId === runId)) return;
    const messageId = randomId();
    const sessionKey = get(agent).sessionKey;
    update(key, (conversation) => ({ ...conversation, messages: [...conversation.messages, { id: messageId, role: "assistant", parts: [], status: "streaming", runId }] }));
    // No message of its own: `userText` is empty, so a reload does not show one.
    await stream(key, agent, messageId, { tenantId, agent, userText: "", ...(sessionKey ? { sessionKey } : {}) }, { runId });
  }

  /**
   * Sends a message in the current session (a new one when there is none) and streams the reply.
   * With `replacesRunId`, the message replaces that run's message and everything after it (an
   * edit or regenerate; the server keeps the old lines, withdrawn). `files` go with it (decision 042).
   */
  async function send(agent: string, text: string, files: readonly PendingFile[] = [], replacesRunId?: string): Promise<void> {
    const key = keyOf(agent);
    const conversation = get(agent);
    const tenantId = options.tenantId();
    if (controllers.has(key) || !tenantId) return;
    const messageId = randomId();
    const userMessageId = randomId();
    const idempotencyKey = randomId();
    const sessionKey = conversation.sessionKey;
    update(key, (current) => ({
      ...current,
      error: undefined,
      messages: [
        ...current.messages,
        {
          id: userMessageId,
          role: "user",
          text,
          ...(files.length > 0
            ? { files: [...files], attachments: files.map((file) => ({ name: file.upload.name, mediaType: file.upload.mediaType, size: file.size, preview: file.preview })) }
            : {}),
        },
        { id: messageId, role: "assistant", parts: [], status: "streaming" },
      ],
    }));
    const input = {
      message: text,
      idempotencyKey,
      ...(sessionKey ? { sessionKey } : {}),
      ...(sessionKey && replacesRunId ? { replacesRunId } : {}),
      ...(files.length > 0 ? { attachments: files.map((file) => file.upload) } : {}),
    };
    await stream(key, agent, messageId, { tenantId, agent, userText: text, ...(sessionKey ? { sessionKey } : {}) }, {
      start: (signal) => api.sendMessage(agent, input, signal),
      userMessageId,
    });
  }

  /**
   * Sends `text` in place of the user message `userMessageId`: the conversation is cut before it
   * and the server withdraws the same messages (decision 041), so the model never reads them again.
   */
  async function replay(agent: string, userMessageId: string, text: string): Promise<void> {
    const key = keyOf(agent);
    const messages = get(agent).messages;
    const index = messages.findIndex((message) => message.id === userMessageId);
    const message = messages[index];
    if (controllers.has(key) || message?.role !== "user" || !canReplay(messages, index)) return;
    update(key, (conversation) => ({ ...conversation, messages: conversation.messages.slice(0, index) }));
    // The files sent in this tab go again; after a reload only their references are known.
    await send(agent, text, message.files ?? [], message.runId);
  }

  return {
    subscribe: (listener: () => void): (() => void) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    /** The conversation snapshot; the same object until something changes. */
    getConversation: get,

    isStreaming(agent: string): boolean {
      const key = keyOf(agent);
      return controllers.has(key) || resuming.has(key);
    },

    send,

    /** Asks the server to stop the run; the stream then ends with status "aborted". Falls back to cutting the stream. */
    async stop(agent: string): Promise<void> {
      const key = keyOf(agent);
      const controller = controllers.get(key);
      const runId = get(agent).run?.runId;
      if (!controller) return;
      update(key, (conversation) => (conversation.run ? { ...conversation, run: { ...conversation.run, state: "stopping" } } : conversation));
      if (runId) {
        try {
          await api.abortRun(runId);
          // The server's run-end (status "aborted") normally arrives at once; don't wait forever for it.
          setTimeout(() => controller.abort(), 5000);
          return;
        } catch {
          // Fall through: at least stop listening.
        }
      }
      controller.abort();
    },

    /** Approves or denies the tool call the reply `messageId` paused at, then follows the reply that carries on. */
    async decide(agent: string, messageId: string, decision: "approve" | "deny", reason?: string): Promise<void> {
      const key = keyOf(agent);
      const message = get(agent).messages.find((each) => each.id === messageId);
      const call = message?.role === "assistant" ? message.approval : undefined;
      if (!call || call.outcome || call.deciding) return;
      patchApproval(key, call.approvalId, (current) => ({ ...current, deciding: true, error: undefined }));
      let decided: ApprovalView;
      try {
        decided = await api.approvals[decision](call.approvalId, reason);
      } catch (error) {
        const detail = toErrorDetail(error);
        patchApproval(key, call.approvalId, (current) => ({ ...current, deciding: false, error: detail }));
        // Someone (or the timeout) was first: show theirs and follow it.
        if (detail.code === "approval_already_decided") {
          const current = await api.approvals.get(call.approvalId).catch(() => undefined);
          if (current) await continueAfter(agent, current);
        }
        return;
      } finally {
        options.onDecided?.();
      }
      await continueAfter(agent, decided);
    },

    /** The live updates say an approval changed: if this tab shows it waiting, follow its decision. */
    approvalChanged(agent: string, approval: ApprovalView): void {
      const message = get(agent).messages.find((each) => each.role === "assistant" && each.approval?.approvalId === approval.id);
      if (message?.role === "assistant" && !message.approval?.outcome && !message.approval?.deciding) void continueAfter(agent, approval);
    },

    /** Sends the last user message again after its reply failed or was stopped: the failed exchange is replaced, on screen and in the session. */
    async retry(agent: string): Promise<void> {
      const messages = get(agent).messages;
      const last = messages[messages.length - 1];
      const previous = messages[messages.length - 2];
      if (last?.role !== "assistant" || last.status === "ok" || previous?.role !== "user") return;
      await replay(agent, previous.id, previous.text);
    },

    /** A new answer to the last message: the reply shown is withdrawn and another streams in its place. */
    async regenerate(agent: string): Promise<void> {
      const messages = get(agent).messages;
      const last = messages[messages.length - 1];
      const previous = messages[messages.length - 2];
      if (last?.role !== "assistant" || last.status === "streaming" || last.approval || previous?.role !== "user") return;
      await replay(agent, previous.id, previous.text);
    },

    /** Edit and resend: `text` replaces the user message `messageId`, and what followed it is withdrawn. */
    edit: replay,

    /** Starts an empty conversation; the next message creates a new session. */
    newChat(agent: string): void {
      const key = keyOf(agent);
      if (controllers.has(key)) return;
      get(agent);
      update(key, (conversation) => ({ ...emptyConversation(agent), sessionsVersion: conversation.sessionsVersion, model: conversation.model }));
    },

    /** Shows a stored session. */
    async openSession(agent: string, sessionKey: string): Promise<void> {
      const key = keyOf(agent);
      if (controllers.has(key)) return;
      get(agent);
      await load(key, agent, sessionKey);
    },

    /**
     * After a reload: if this tab was streaming a reply for `agent`, shows the session and replays
     * the run from its first event into a fresh bubble (the text seen before the reload is gone
     * with the old page, so seq 0 rebuilds it exactly once). Returns false when nothing was in flight.
     */
    async resume(agent: string): Promise<boolean> {
      const key = keyOf(agent);
      const tenantId = options.tenantId();
      const record = tenantId ? inflight.find(tenantId, agent) : undefined;
      if (!record || controllers.has(key) || resuming.has(key)) return false;
      get(agent);
      resuming.add(key);
      let history: ChatMessage[] | undefined;
      try {
        history = record.sessionKey ? await load(key, agent, record.sessionKey) : [];
      } finally {
        resuming.delete(key);
      }
      const messages = history ?? [];
      if (messages.some((message) => message.role === "assistant" && message.runId === record.runId)) {
        inflight.remove(record.runId);
        return true;
      }
      // A run a decision started has no message of its own (`userText` empty).
      const hasUser = record.userText === "" || messages.some((message) => message.role === "user" && message.runId === record.runId);
      const messageId = randomId();
      update(key, (conversation) => ({
        ...conversation,
        // The reply being resumed is the session (its transcript may not be written yet).
        error: undefined,
        sessionKey: record.sessionKey,
        messages: [
          ...(history ? conversation.messages : []),
          ...(hasUser ? [] : [{ id: randomId(), role: "user" as const, text: record.userText, runId: record.runId }]),
          { id: messageId, role: "assistant" as const, parts: [], status: "streaming" as const, runId: record.runId },
        ],
      }));
      await stream(key, agent, messageId, record, { runId: record.runId });
      return true;
    },

    /** Forgets every conversation (sign-out, organisation switch). Running streams are cut. */
    reset(): void {
      for (const controller of controllers.values()) controller.abort();
      controllers.clear();
      conversations.clear();
      for (const listener of listeners) listener();
    },
  };
}

/** A session waiting on a tool call's approval: the reply that made the call shows it paused, with the call to decide. */
function withPendingApproval(messages: ChatMessage[], pending: PendingApproval | undefined): ChatMessage[] {
  if (!pending) return messages;
  const index = messages.findLastIndex((message) => message.role === "assistant" && message.parts.some((part) => part.type === "tool" && part.toolCallId === pending.toolCallId));
  const message = messages[index];
  if (message?.role !== "assistant") return messages;
  const approval: PendingCall = { approvalId: pending.approvalId, toolCallId: pending.toolCallId, name: pending.name, input: pending.input, requestedAt: pending.requestedAt };
  return messages.map((each, position) => (position === index ? { ...message, status: "paused", approval } : each));
}

/**
 * Whether the user message at `index` can be edited or answered again: the server must be able to
 * find it (it knows its run), unless it is the last message, which nothing follows to withdraw.
 */
export function canReplay(messages: readonly ChatMessage[], index: number): boolean {
  const message = messages[index];
  if (message?.role !== "user") return false;
  const later = messages.slice(index + 1);
  return message.runId !== undefined || later.every((each) => each.role === "assistant" && !each.runId);
}
