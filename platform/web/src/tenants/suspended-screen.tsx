const TITLES = { agents: "Agents", team: "Team", keys: "API keys", usage: "Usage", integrations: "Integrations", approvals: "Approvals", webhooks: "Webhooks", budget: "Budget & plan", audit: "Audit log" } as const;

/**
 * An organisation screen while the operator has suspended the organisation: the platform refuses
 * everything on it, so instead of empty lists that would look like lost data it says so. The
 * banner above carries the reason and what still works (export, leave, check again).
 */
export function SuspendedScreen({ screen, organisation }: { screen: keyof typeof TITLES; organisation: string }) {
  return (
    <main className="page" id="main" tabIndex={-1}>
      <h1>{TITLES[screen]}</h1>
      <p className="notice" role="note" data-testid="suspended-screen">
        {organisation} is suspended, so its agents, chats, team, API keys and usage cannot be used or changed until the operator lifts the suspension. Nothing
        was deleted.
      </p>
    </main>
  );
}
