import type { ScheduleFiring } from "@workforce/protocol";
import { useEffect, useState } from "react";
import { toErrorDetail } from "../api/api-error";
import { useServices } from "../services";
import { ErrorMessage } from "../ui/error-message";
import { FiringList } from "./firing-list";

type AgentFiring = ScheduleFiring & { scheduleName: string };

/**
 * What the agent did on its own lately: the firings of all its schedules, newest first, with how
 * each run went. Reloads every few seconds while a run is starting or running, and when `version` changes.
 */
export function RecentRuns({ agent, manages, version }: { agent: string; manages: boolean; version: number }) {
  const { api } = useServices();
  const [firings, setFirings] = useState<AgentFiring[]>();
  const [error, setError] = useState<{ code: string; message: string }>();

  useEffect(() => {
    let current = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      try {
        const page = await api.schedules.agentFirings(agent);
        if (!current) return;
        setFirings(page.firings);
        setError(undefined);
        // Runs in flight: look again until they have an outcome.
        if (page.firings.some((firing) => firing.status === "pending" || firing.status === "started")) timer = setTimeout(() => void load(), 2_000);
      } catch (thrown) {
        if (current) setError(toErrorDetail(thrown));
      }
    };
    void load();
    return () => {
      current = false;
      if (timer) clearTimeout(timer);
    };
  }, [api, agent, version]);

  return (
    <section className="card section" aria-labelledby="recent-runs-heading" data-testid="recent-runs">
      <h2 id="recent-runs-heading">Recent autonomous runs</h2>
      <ErrorMessage error={error} />
      {firings === undefined ? (
        error ? null : <p className="muted small">Loading…</p>
      ) : (
        <FiringList agent={agent} firings={firings} label="Recent autonomous runs" canOpenSessions={manages} scheduleNames />
      )}
    </section>
  );
}
