import type { Agent } from "@workforce/protocol";
import { useEffect, useState } from "react";
import { toErrorDetail } from "../api/api-error";
import { useServices } from "../services";
import { useAccess } from "../tenants/use-access";
import { isAgentMissing, NotFoundState } from "../errors/not-found";
import { ErrorMessage } from "../ui/error-message";
import { AgentTabs } from "./agent-tabs";
import { HeartbeatPanel } from "./heartbeat-panel";
import { PendingApprovals } from "./pending-approvals";
import { RecentRuns } from "./recent-runs";
import { SchedulesSection } from "./schedules-section";

/**
 * An agent's Work tab (issue 15): what it does without anyone typing. Sections, in order:
 * schedules, the heartbeat, pending approvals, recent autonomous runs. Each is its own component.
 */
export function WorkScreen({ agent: slug, tenantId }: { agent: string; tenantId: string }) {
  const { api } = useServices();
  const { manages } = useAccess();
  const [agent, setAgent] = useState<Agent>();
  const [error, setError] = useState<{ code: string; message: string }>();
  // Bumped when a schedule changes or runs, so the recent runs look again.
  const [version, setVersion] = useState(0);

  useEffect(() => {
    let current = true;
    api.getAgent(slug).then(
      (found) => current && setAgent(found),
      (thrown: unknown) => current && setError(toErrorDetail(thrown)),
    );
    return () => {
      current = false;
    };
  }, [api, slug, tenantId]);

  const name = agent?.name ?? slug;
  if (isAgentMissing(error)) {
    return (
      <main className="page" id="main" data-testid="work-screen" data-agent={slug}>
        <NotFoundState title={`There is no agent called “${slug}”`}>It may have been deleted, or the address is mistyped.</NotFoundState>
      </main>
    );
  }
  return (
    <main className="page work-screen" id="main" data-testid="work-screen" data-agent={slug}>
      <header className="page-header">
        <h1>
          <span aria-hidden="true">{agent?.emoji ?? "🤖"}</span> {name}
        </h1>
        <AgentTabs agent={slug} current="work" />
      </header>
      <ErrorMessage error={error} />
      <SchedulesSection agent={slug} manages={manages} version={version} onChanged={() => setVersion((value) => value + 1)} />
      <HeartbeatPanel tenantId={tenantId} agent={slug} />
      <PendingApprovals tenantId={tenantId} agent={slug} />
      <RecentRuns agent={slug} manages={manages} version={version} />
    </main>
  );
}
