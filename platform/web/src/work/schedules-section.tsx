import type { ScheduleView } from "@workforce/protocol";
import { useCallback, useEffect, useState } from "react";
import { toErrorDetail } from "../api/api-error";
import { useServices } from "../services";
import { ErrorMessage } from "../ui/error-message";
import { ScheduleForm } from "./schedule-form";
import { ScheduleRow } from "./schedule-row";

/** An agent's schedules: everyone sees them; owners and admins add, turn on and off, run now and delete. */
export function SchedulesSection({ agent, manages, version, onChanged }: { agent: string; manages: boolean; version: number; onChanged: () => void }) {
  const { api } = useServices();
  const [schedules, setSchedules] = useState<ScheduleView[]>();
  const [adding, setAdding] = useState(false);
  const [error, setError] = useState<{ code: string; message: string }>();

  const load = useCallback(async () => {
    try {
      setSchedules(await api.schedules.list(agent));
      setError(undefined);
    } catch (thrown) {
      setError(toErrorDetail(thrown));
    }
  }, [api, agent]);
  useEffect(() => {
    void load();
  }, [load, version]);

  const changed = () => {
    void load();
    onChanged();
  };

  return (
    <section className="card section" aria-labelledby="schedules-heading" data-testid="schedules-section">
      <div className="section-header">
        <h2 id="schedules-heading">Schedules</h2>
        {manages && !adding ? (
          <button type="button" className="button small primary" onClick={() => setAdding(true)}>
            Add schedule
          </button>
        ) : null}
      </div>
      <p className="muted small">Messages the agent is sent on its own: on a cron schedule, once, or every few minutes.</p>
      {adding ? (
        <ScheduleForm
          agent={agent}
          onCancel={() => setAdding(false)}
          onCreated={() => {
            setAdding(false);
            changed();
          }}
        />
      ) : null}
      <ErrorMessage error={error} />
      {schedules === undefined ? (
        error ? null : <p className="muted small">Loading…</p>
      ) : schedules.length === 0 ? (
        <p className="muted small">No schedules yet.</p>
      ) : (
        <ul className="row-list" aria-label="Schedules">
          {schedules.map((schedule) => (
            <ScheduleRow key={schedule.id} agent={agent} schedule={schedule} manages={manages} onChanged={changed} onDeleted={changed} />
          ))}
        </ul>
      )}
    </section>
  );
}
