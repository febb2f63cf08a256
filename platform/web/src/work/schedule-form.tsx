import type { CatchUpPolicy, ScheduleKind, ScheduleSessionMode, ScheduleView } from "@workforce/protocol";
import { useId, useState, type FormEvent } from "react";
import { toErrorDetail } from "../api/api-error";
import { useServices } from "../services";
import { ErrorMessage } from "../ui/error-message";

const browserTimeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
/** The names this browser knows, for the field's suggestions (the platform checks the one chosen). */
const timeZones = (): string[] => (typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : []);

/**
 * A new schedule: what to send, when (a cron expression in a time zone, once at a time, or every N
 * minutes), to which session, and what happens to firings missed while the platform was down. The
 * platform checks the expression and the time zone and says what is wrong.
 */
export function ScheduleForm({ agent, onCreated, onCancel }: { agent: string; onCreated: (schedule: ScheduleView) => void; onCancel: () => void }) {
  const { api } = useServices();
  const id = useId();
  const [name, setName] = useState("");
  const [kind, setKind] = useState<ScheduleKind>("cron");
  const [cron, setCron] = useState("0 9 * * 1-5");
  const [at, setAt] = useState("");
  const [everyMinutes, setEveryMinutes] = useState("60");
  const [timezone, setTimezone] = useState(browserTimeZone);
  const [message, setMessage] = useState("");
  const [sessionMode, setSessionMode] = useState<ScheduleSessionMode>("fixed");
  const [sessionKey, setSessionKey] = useState("");
  const [catchUp, setCatchUp] = useState<CatchUpPolicy>("skip");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ code: string; message: string }>();

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const schedule = await api.schedules.create(agent, {
        name: name.trim(),
        kind,
        ...(kind === "cron" ? { cron: cron.trim() } : kind === "at" ? { at } : { everyMinutes: Number(everyMinutes) }),
        timezone: timezone.trim(),
        message,
        sessionMode,
        ...(sessionMode === "fixed" ? { sessionKey: sessionKey.trim() || slugOf(name) } : {}),
        catchUp,
      });
      onCreated(schedule);
    } catch (thrown) {
      setError(toErrorDetail(thrown));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="form card schedule-form" aria-label="New schedule" data-testid="schedule-form" onSubmit={(event) => void submit(event)} noValidate>
      <div className="field">
        <label htmlFor={`${id}-name`}>Name</label>
        <input id={`${id}-name`} value={name} onChange={(event) => setName(event.target.value)} placeholder="Morning report" required maxLength={100} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-message`}>Message</label>
        <textarea id={`${id}-message`} value={message} onChange={(event) => setMessage(event.target.value)} rows={3} placeholder="What the agent is sent each time" required />
      </div>
      <div className="form-row">
        <div className="field">
          <label htmlFor={`${id}-kind`}>When</label>
          <select id={`${id}-kind`} value={kind} onChange={(event) => setKind(event.target.value as ScheduleKind)}>
            <option value="cron">On a cron schedule</option>
            <option value="at">Once, at a time</option>
            <option value="every">Every N minutes</option>
          </select>
        </div>
        {kind === "cron" ? (
          <div className="field grow">
            <label htmlFor={`${id}-cron`}>Cron expression</label>
            <input id={`${id}-cron`} value={cron} onChange={(event) => setCron(event.target.value)} spellCheck={false} />
            <p className="hint">
              minute hour day-of-month month day-of-week, e.g. <code>0 9 * * 1-5</code> (09:00 on weekdays), or <code>@daily</code>
            </p>
          </div>
        ) : kind === "at" ? (
          <div className="field grow">
            <label htmlFor={`${id}-at`}>Time</label>
            <input id={`${id}-at`} type="datetime-local" value={at} onChange={(event) => setAt(event.target.value)} />
          </div>
        ) : (
          <div className="field grow">
            <label htmlFor={`${id}-every`}>Minutes between runs</label>
            <input id={`${id}-every`} type="number" min={1} value={everyMinutes} onChange={(event) => setEveryMinutes(event.target.value)} />
          </div>
        )}
      </div>
      {kind !== "every" ? (
        <div className="field">
          <label htmlFor={`${id}-tz`}>Time zone</label>
          <input id={`${id}-tz`} list={`${id}-zones`} value={timezone} onChange={(event) => setTimezone(event.target.value)} spellCheck={false} />
          <datalist id={`${id}-zones`}>
            {timeZones().map((zone) => (
              <option key={zone} value={zone} />
            ))}
          </datalist>
        </div>
      ) : null}
      <div className="form-row">
        <div className="field">
          <label htmlFor={`${id}-session-mode`}>Session</label>
          <select id={`${id}-session-mode`} value={sessionMode} onChange={(event) => setSessionMode(event.target.value as ScheduleSessionMode)}>
            <option value="fixed">One session for every run</option>
            <option value="new">A new session each run</option>
          </select>
        </div>
        {sessionMode === "fixed" ? (
          <div className="field grow">
            <label htmlFor={`${id}-session-key`}>Session key</label>
            <input id={`${id}-session-key`} value={sessionKey} onChange={(event) => setSessionKey(event.target.value)} placeholder={slugOf(name) || "morning-report"} spellCheck={false} />
          </div>
        ) : null}
      </div>
      <div className="field">
        <label htmlFor={`${id}-catch-up`}>Missed while the platform was down</label>
        <select id={`${id}-catch-up`} value={catchUp} onChange={(event) => setCatchUp(event.target.value as CatchUpPolicy)}>
          <option value="skip">Skip them</option>
          <option value="run_once">Run once to catch up</option>
        </select>
      </div>
      <ErrorMessage error={error} />
      <div className="button-row">
        <button type="submit" className="button primary" disabled={busy}>
          Create schedule
        </button>
        <button type="button" className="button ghost" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** "Morning report" → "morning-report": the session key suggested by the name. */
function slugOf(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60);
}
