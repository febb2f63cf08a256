import type { ScheduleFiring } from "@workforce/protocol";
import { chatPath } from "../router";
import { Link } from "../ui/link";
import { FIRING_STATUS_TEXT, firingBadge, localTime } from "./schedule-text";
import { ErrorSummary } from "../ui/error-message";

/**
 * Firings, newest first: when, how it went, and a link to the session its run wrote to (for those
 * who may open it: the schedule's creator, and owners and admins).
 */
export function FiringList({ agent, firings, label, canOpenSessions, scheduleNames }: { agent: string; firings: (ScheduleFiring & { scheduleName?: string })[]; label: string; canOpenSessions: boolean; scheduleNames?: boolean }) {
  if (firings.length === 0) return <p className="muted small">Nothing yet.</p>;
  return (
    <ul className="row-list firing-list" aria-label={label}>
      {firings.map((firing) => (
        <li key={firing.id} className="row firing" data-testid="firing-row" data-status={firing.status} data-firing-id={firing.id}>
          <div className="row-main">
            <span className="row-title">
              {scheduleNames && firing.scheduleName ? <>{firing.scheduleName} · </> : null}
              <time dateTime={firing.scheduledFor}>{localTime(firing.scheduledFor)}</time>{" "}
              <span className={firingBadge(firing.status)} data-testid="firing-status">
                {FIRING_STATUS_TEXT[firing.status]}
              </span>
              {firing.manual ? <span className="muted small"> · run now</span> : null}
            </span>
            {firing.missed ? (
              <span className="muted small">
                {firing.missed.count === 1 ? "1 firing" : `${firing.missed.count} firings`} missed since {localTime(firing.missed.from)} while the platform was down
              </span>
            ) : null}
            {firing.error && firing.status !== "skipped" ? (
              <ErrorSummary error={firing.error} className="small danger-text" />
            ) : null}
            {firing.usage ? (
              <span className="muted small">
                {firing.usage.inputTokens + firing.usage.outputTokens} tokens
              </span>
            ) : null}
          </div>
          {firing.runId && firing.sessionKey ? (
            <div className="row-actions small">
              {canOpenSessions ? <Link to={chatPath(agent, firing.sessionKey)}>Open session</Link> : null}
              <code className="muted" title="Run id">
                {firing.runId}
              </code>
            </div>
          ) : null}
        </li>
      ))}
    </ul>
  );
}
