import type { Agent } from "@workforce/protocol";
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, useSyncExternalStore } from "react";
import { toErrorDetail } from "../api/api-error";
import { useApprovalsLive } from "../approvals/approvals-live";
import { chatPath, navigate } from "../router";
import { useServices } from "../services";
import { isMine, ownerLabel, SessionsSidebar } from "../sessions/sessions-sidebar";
import { useAccess } from "../tenants/use-access";
import { isRetryable } from "../errors/describe-error";
import { useGatewayDown } from "../errors/gateway-status";
import { isAgentMissing, NotFoundState } from "../errors/not-found";
import { Avatar } from "../ui/avatar";
import { usePageTitle } from "../ui/page-title";
import { ErrorMessage } from "../ui/error-message";
import { AgentTabs } from "../work/agent-tabs";
import { canReplay } from "./chat-store";
import type { Conversation } from "./chat-types";
import { AttachmentSource } from "./attachment-view";
import { Composer } from "./composer";
import type { MessageActions } from "./message-actions";
import { MessageView } from "./message-view";
import { useStopOnEscape } from "./stop-on-escape";

/** Chat with one agent: sessions on the side, the conversation, the composer. */
export function ChatScreen({ agent: slug, session, tenantId }: { agent: string; session: string | undefined; tenantId: string }) {
  const { api, chat, approvals } = useServices();
  const conversation = useSyncExternalStore(chat.subscribe, () => chat.getConversation(slug));
  const [agent, setAgent] = useState<Agent>();
  const [agentError, setAgentError] = useState<{ code: string; message: string }>();
  const [sidebarOpen, setSidebarOpen] = useState(false);
  const { userId, manages, suspended } = useAccess();
  const streaming = conversation.run !== undefined;
  // Owners and admins may read a colleague's chat, never write in it (the platform refuses with 403).
  const owner = conversation.owner;
  const readOnly = owner !== undefined && owner.type !== "none" && !isMine(owner, userId);

  useEffect(() => {
    let current = true;
    setAgent(undefined);
    setAgentError(undefined);
    api.getAgent(slug).then(
      (found) => current && setAgent(found),
      (thrown: unknown) => current && setAgentError(toErrorDetail(thrown)),
    );
    return () => {
      current = false;
    };
  }, [api, slug, tenantId]);

  // Pick up a reply that was streaming when the page reloaded; otherwise open the session in the URL.
  useEffect(() => {
    void (async () => {
      if (await chat.resume(slug)) return;
      const now = chat.getConversation(slug);
      if (session && session !== now.sessionKey && !chat.isStreaming(slug)) await chat.openSession(slug, session);
    })();
  }, [chat, slug, session, tenantId]);

  // Keep the URL on the current session so a reload (or a shared link) opens it again: when the
  // chat moved to another session (a new one started, one opened) or the URL names none. A link to
  // another session (the URL changed, the chat not yet) is the effect above's to open; putting the
  // URL back here would undo it, and the two would fight for ever.
  const urlSession = useRef(conversation.sessionKey);
  useEffect(() => {
    const moved = conversation.sessionKey !== urlSession.current;
    urlSession.current = conversation.sessionKey;
    if (!conversation.sessionKey || conversation.sessionKey === session) return;
    // While a reply streams the chat stays where it is (the effect above waits), so the URL does too.
    if (moved || session === undefined || chat.isStreaming(slug)) navigate(chatPath(slug, conversation.sessionKey), { replace: true });
  }, [chat, conversation.sessionKey, session, slug]);

  // A decision made elsewhere (the inbox, a colleague, the timeout) on a call this chat shows: follow it here too.
  const live = useApprovalsLive(approvals, tenantId);
  useEffect(() => {
    for (const approval of live.changed) chat.approvalChanged(slug, approval);
  }, [chat, slug, live.changed]);
  const decide = useCallback((messageId: string, decision: "approve" | "deny", reason: string | undefined) => void chat.decide(slug, messageId, decision, reason), [chat, slug]);
  const edit = useCallback((messageId: string, text: string) => void chat.edit(slug, messageId, text), [chat, slug]);
  const regenerate = useCallback(() => void chat.regenerate(slug), [chat, slug]);
  useStopOnEscape(streaming, () => void chat.stop(slug));

  const sessionKey = conversation.sessionKey;
  const attachmentSource = useMemo(() => (sessionKey ? (id: string) => api.attachment(slug, sessionKey, id) : undefined), [api, slug, sessionKey]);
  const name = agent?.name ?? slug;
  usePageTitle(agent ? `${agent.name} — Chat` : undefined);
  const lastMessage = conversation.messages[conversation.messages.length - 1];
  const waiting = lastMessage?.role === "assistant" && lastMessage.approval !== undefined && !lastMessage.approval.outcome;
  const canRetry = !readOnly && !streaming && lastMessage?.role === "assistant" && (lastMessage.status === "aborted" || (lastMessage.status === "error" && isRetryable(lastMessage.error)));
  // Edit and regenerate replace messages (decision 041): not in a colleague's chat, nor while a reply streams or waits on an approval.
  const canChange = !readOnly && !streaming && !waiting && !suspended;
  const canRegenerate = canChange && lastMessage?.role === "assistant" && lastMessage.status === "ok" && conversation.messages.at(-2)?.role === "user";
  const gatewayDown = useGatewayDown();
  const sessionMissing = conversation.error?.code === "session_not_found";

  if (isAgentMissing(agentError)) {
    return (
      <main className="page" id="main" tabIndex={-1}>
        <NotFoundState title={`There is no agent called “${slug}”`}>It may have been deleted, or the address is mistyped.</NotFoundState>
      </main>
    );
  }

  return (
    <main className={`chat-layout${sidebarOpen ? " sidebar-open" : ""}`} id="main" tabIndex={-1}>
      <aside className="chat-sidebar" id="chat-sidebar">
        <SessionsSidebar
          agent={slug}
          activeKey={conversation.sessionKey}
          version={conversation.sessionsVersion}
          busy={streaming}
          canSeeAll={manages}
          userId={userId}
          onOpen={(key) => {
            setSidebarOpen(false);
            navigate(chatPath(slug, key));
            void chat.openSession(slug, key);
          }}
          onNewChat={() => {
            setSidebarOpen(false);
            chat.newChat(slug);
            navigate(chatPath(slug));
          }}
          onDeleted={(key) => {
            if (key === conversation.sessionKey) {
              chat.newChat(slug);
              navigate(chatPath(slug), { replace: true });
            }
          }}
        />
      </aside>
      <section className="chat-main" aria-label={`Chat with ${name}`}>
        <header className="chat-header">
          <button
            type="button"
            className="button ghost small sidebar-toggle"
            aria-controls="chat-sidebar"
            aria-expanded={sidebarOpen}
            onClick={() => setSidebarOpen((open) => !open)}
          >
            Chats
          </button>
          <Avatar emoji={agent?.emoji ?? ""} name={name} size="small" />
          <div className="chat-title">
            <h1 title={name}>{name}</h1>
            {agent ? <p className="muted small" title={agent.role}>{agent.role}</p> : null}
          </div>
          <AgentTabs agent={slug} current="chat" />
          <ConnectionStatus conversation={conversation} />
        </header>
        {gatewayDown ? null : <ErrorMessage error={agentError} />}
        {sessionMissing ? (
          <NotFoundState
            title="This chat does not exist"
            action={
              <button
                type="button"
                className="button primary"
                onClick={() => {
                  chat.newChat(slug);
                  navigate(chatPath(slug), { replace: true });
                }}
              >
                Start a new chat
              </button>
            }
          >
            It may have been deleted, or the link is incomplete.
          </NotFoundState>
        ) : (
          <>
            <ErrorMessage error={conversation.error} />
            <AttachmentSource.Provider value={attachmentSource}>
              <MessageList
                conversation={conversation}
                agentName={name}
                onRetry={canRetry ? () => void chat.retry(slug) : undefined}
                onDecide={decide}
                onEdit={canChange && !gatewayDown ? edit : undefined}
                onRegenerate={canRegenerate && !gatewayDown ? regenerate : undefined}
              />
            </AttachmentSource.Provider>
          </>
        )}
        {sessionMissing ? null : readOnly && owner ? (
          <p className="notice read-only-note" role="note" data-testid="read-only-note">
            Read-only: this chat belongs to {ownerLabel(owner)}. Start a new chat to talk to {name}.
          </p>
        ) : (
          <Composer
            agentName={name}
            streaming={streaming}
            disabled={agentError !== undefined || conversation.loadingHistory || gatewayDown}
            locked={suspended ? "Sending is turned off while the organisation is suspended" : gatewayDown ? "Agents are not reachable right now; sending comes back by itself" : waiting ? `Approve or deny the ${lastMessage.approval?.name ?? "tool"} call above first` : undefined}
            onSend={(text, files) => void chat.send(slug, text, files)}
            onStop={() => void chat.stop(slug)}
          />
        )}
      </section>
    </main>
  );
}

function ConnectionStatus({ conversation }: { conversation: Conversation }) {
  const run = conversation.run;
  if (!run || run.state === "streaming") return null;
  const text =
    run.state === "connecting" ? "Connecting…" : run.state === "stopping" ? "Stopping…" : `Reconnecting… (attempt ${run.attempt})`;
  return (
    <span className="status-pill" role="status" data-testid="connection-status">
      {text}
    </span>
  );
}

function MessageList({
  conversation,
  agentName,
  onRetry,
  onDecide,
  onEdit,
  onRegenerate,
}: {
  conversation: Conversation;
  agentName: string;
  onRetry: (() => void) | undefined;
  onDecide: (messageId: string, decision: "approve" | "deny", reason: string | undefined) => void;
} & MessageActions) {
  const list = useRef<HTMLDivElement>(null);
  const gatewayDown = useGatewayDown();
  const stickToBottom = useRef(true);
  const shown = useRef({ sessionKey: conversation.sessionKey, count: 0 });
  const lastIndex = conversation.messages.length - 1;

  // Follow the reply while the reader is at the bottom; jump to the end on a new session or a sent message.
  useLayoutEffect(() => {
    const element = list.current;
    if (!element) return;
    const previous = shown.current;
    const last = conversation.messages[conversation.messages.length - 1];
    const jump = previous.sessionKey !== conversation.sessionKey || previous.count === 0 || (conversation.messages.length > previous.count && last?.role === "assistant" && last.status === "streaming");
    shown.current = { sessionKey: conversation.sessionKey, count: conversation.messages.length };
    if (jump || stickToBottom.current) {
      element.scrollTop = element.scrollHeight;
      stickToBottom.current = true;
    }
  }, [conversation.messages, conversation.sessionKey]);

  return (
    <div
      className="message-scroll"
      ref={list}
      onScroll={(event) => {
        const element = event.currentTarget;
        stickToBottom.current = element.scrollHeight - element.scrollTop - element.clientHeight < 80;
      }}
    >
      {conversation.loadingHistory ? (
        <p className="muted center" role="status">
          {gatewayDown ? "This chat shows as soon as agents are reachable again." : "Loading chat…"}
        </p>
      ) : null}
      {!conversation.loadingHistory && conversation.messages.length === 0 ? (
        <div className="empty-chat">
          <p className="muted">Start a conversation with {agentName}.</p>
        </div>
      ) : null}
      <ol className="messages" data-testid="messages" aria-label="Messages" aria-busy={conversation.run !== undefined}>
        {conversation.messages.map((message, index) => (
          <MessageView
            key={message.id}
            message={message}
            onRetry={index === lastIndex ? onRetry : undefined}
            onDecide={onDecide}
            onEdit={onEdit && canReplay(conversation.messages, index) ? onEdit : undefined}
            onRegenerate={index === lastIndex ? onRegenerate : undefined}
          />
        ))}
      </ol>
    </div>
  );
}
