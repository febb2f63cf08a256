import { memo } from "react";
import type { AssistantMessage, ChatMessage, ToolPart } from "./chat-types";
import { ErrorMessage } from "../ui/error-message";
import { ApprovalPrompt } from "./approval-prompt";
import { BudgetExceededNotice } from "./budget-exceeded-notice";
import { Markdown } from "./markdown";
import { AssistantActions, UserMessageView, type MessageActions } from "./message-actions";

type Decide = (messageId: string, decision: "approve" | "deny", reason: string | undefined) => void;

/** One chat bubble. Memoised: while a reply streams, only the streaming bubble re-renders. */
export const MessageView = memo(function MessageView({
  message,
  onRetry,
  onDecide,
  onEdit,
  onRegenerate,
}: { message: ChatMessage; onRetry?: (() => void) | undefined; onDecide?: Decide | undefined } & MessageActions) {
  if (message.role === "user") return <UserMessageView message={message} onEdit={onEdit} />;
  return <AssistantView message={message} onRetry={onRetry} onDecide={onDecide} onRegenerate={onRegenerate} />;
});

function AssistantView({ message, onRetry, onDecide, onRegenerate }: { message: AssistantMessage; onRetry?: (() => void) | undefined; onDecide?: Decide | undefined; onRegenerate?: (() => void) | undefined }) {
  const empty = message.parts.length === 0;
  return (
    <li className="message message-assistant" data-testid="message-assistant" data-status={message.status} data-run-id={message.runId}>
      <div className="bubble" aria-busy={message.status === "streaming"}>
        {message.parts.map((part, index) =>
          part.type === "text" ? <Markdown key={index} text={part.text} /> : <ToolCallView key={part.toolCallId || index} part={part} />,
        )}
        {empty && message.status === "streaming" ? (
          <span className="typing" aria-label="Thinking">
            <span />
            <span />
            <span />
          </span>
        ) : null}
        {message.status === "streaming" && !empty ? <span className="cursor" aria-hidden="true" /> : null}
        {message.approval ? <ApprovalPrompt call={message.approval} onDecide={(decision, reason) => onDecide?.(message.id, decision, reason)} /> : null}
      </div>
      <MessageFooter message={message} onRetry={onRetry} onRegenerate={onRegenerate} />
    </li>
  );
}

function MessageFooter({ message, onRetry, onRegenerate }: { message: AssistantMessage; onRetry?: (() => void) | undefined; onRegenerate?: (() => void) | undefined }) {
  if (message.status === "streaming") return null;
  return (
    <div className="message-footer">
      {message.status === "error" && message.error?.code === "run_interrupted" ? (
        <InterruptedNotice />
      ) : message.status === "error" && message.error?.code === "budget_exceeded" ? (
        <BudgetExceededNotice error={message.error} />
      ) : message.status === "error" && message.error ? (
        <ErrorMessage error={message.error} className="inline" />
      ) : null}
      {message.status === "aborted" ? <span className="status-pill">Stopped</span> : null}
      {message.status === "ok" && message.usage ? (
        <span className="muted small" title="Tokens in / out">
          {message.usage.inputTokens.toLocaleString()} in · {message.usage.outputTokens.toLocaleString()} out
          {message.model?.offline ? " · offline model" : ""}
        </span>
      ) : null}
      {onRetry ? (
        <button type="button" className="button ghost small" onClick={onRetry}>
          Retry
        </button>
      ) : null}
      <AssistantActions message={message} onRegenerate={onRegenerate} />
    </div>
  );
}

/**
 * The server running the reply stopped (crash, restart, lost node) before it finished: not an
 * error in what the user asked, and retrying is the fix, so it reads as a notice beside Retry.
 */
function InterruptedNotice() {
  return (
    <div className="notice" role="status" data-testid="interrupted">
      <strong>Reply interrupted.</strong> The server answering stopped before the reply was complete; your message was kept. Retry to get an answer.
    </div>
  );
}

function ToolCallView({ part }: { part: ToolPart }) {
  const state = !part.done ? "running" : part.isError ? "failed" : "done";
  return (
    <details className={`tool-call tool-${state}`} data-testid="tool-call">
      <summary>
        <span className="tool-icon" aria-hidden="true">
          {state === "running" ? "⏳" : state === "failed" ? "⚠️" : "🔧"}
        </span>
        <span className="tool-name">{part.name}</span>
        <span className="muted small">{state === "running" ? "running…" : state === "failed" ? "failed" : "done"}</span>
      </summary>
      {part.input !== undefined ? (
        <div className="tool-section">
          <div className="tool-label">Input</div>
          <pre className="code-block">
            <code>{formatInput(part.input)}</code>
          </pre>
        </div>
      ) : null}
      {part.output !== undefined ? (
        <div className="tool-section">
          <div className="tool-label">Output</div>
          <pre className="code-block">
            <code>{part.output}</code>
          </pre>
        </div>
      ) : null}
    </details>
  );
}

function formatInput(input: unknown): string {
  if (typeof input === "string") return input;
  try {
    return JSON.stringify(input, null, 2);
  } catch {
    return String(input);
  }
}
