import type { OrganisationLimitsView } from "@workforce/protocol";
import { useEffect, useState } from "react";
import { toErrorDetail } from "../api/api-error";
import type { Budget } from "../api/governance-api";
import type { Role } from "../api/platform-schemas";
import { useServices } from "../services";
import { canManage } from "../tenants/tenant-store";
import { ErrorMessage } from "../ui/error-message";
import { formatNumber } from "../usage/format";
import { LimitsPanel } from "../usage/limits-panel";
import { BudgetForm } from "./budget-form";
import { BudgetMeter } from "./budget-meter";

/** The smaller of the two caps holds: the operator's plan and the organisation's own budget. */
function limitInForce(plan: number | null, budget: number | null): number | null {
  if (plan === null) return budget;
  if (budget === null) return plan;
  return Math.min(plan, budget);
}

/**
 * Budget & plan: this month's tokens against the limit in force, when the count starts again,
 * the plan the operator set, and the organisation's own budget (set by owners and admins; read-only for members).
 */
export function BudgetScreen({ tenantId, role }: { tenantId: string; role: Role | undefined }) {
  const { api } = useServices();
  const [budget, setBudget] = useState<Budget>();
  const [limits, setLimits] = useState<OrganisationLimitsView | null>();
  const [error, setError] = useState<{ code: string; message: string }>();
  const [version, setVersion] = useState(0);
  const manager = canManage(role);

  useEffect(() => {
    let current = true;
    setError(undefined);
    api.governance.budget().then(
      (loaded) => current && setBudget(loaded),
      (thrown: unknown) => current && setError(toErrorDetail(thrown)),
    );
    // The plan is a detail: without it the budget alone is shown.
    api.limits().then(
      (loaded) => current && setLimits(loaded),
      () => current && setLimits(null),
    );
    return () => {
      current = false;
    };
  }, [api, tenantId, version]);

  const plan = limits ? limits.monthlyTokens.plan : null;
  return (
    <main className="page" id="main" tabIndex={-1}>
      <div className="page-header">
        <div>
          <h1>Budget &amp; plan</h1>
          <p className="muted">How many tokens this organisation's agents may use each month, and how many they have used.</p>
        </div>
      </div>
      {error ? (
        <ErrorMessage error={error}>
          <button type="button" className="button small" onClick={() => setVersion((value) => value + 1)}>
            Try again
          </button>
        </ErrorMessage>
      ) : null}
      {!budget && !error ? (
        <p className="muted" role="status">
          Loading the budget…
        </p>
      ) : null}
      {budget ? (
        <>
          <section className="card section" aria-labelledby="month-title">
            <h2 id="month-title">This month</h2>
            <BudgetMeter used={budget.usedTokens} limit={limits === undefined ? budget.monthlyTokens : limitInForce(plan, budget.monthlyTokens)} periodEnd={budget.periodEnd} />
          </section>
          <section className="card section" aria-labelledby="budget-title">
            <h2 id="budget-title">Budget</h2>
            <p data-testid="budget-current">
              {budget.monthlyTokens === null ? (
                "This organisation has set no budget of its own."
              ) : (
                <>
                  The organisation's own budget is <strong>{formatNumber(budget.monthlyTokens)}</strong> {budget.monthlyTokens === 1 ? "token" : "tokens"} a month.
                </>
              )}
              {plan !== null ? ` The plan allows ${formatNumber(plan)}; the smaller of the two holds.` : ""}
            </p>
            {manager ? (
              <BudgetForm
                budget={budget}
                plan={plan}
                onSaved={(next) => {
                  setBudget(next);
                  // The limits in force follow the budget.
                  setVersion((value) => value + 1);
                }}
              />
            ) : (
              <p className="notice" role="note" data-testid="budget-read-only">
                Only owners and admins can change the budget. Ask one of them if your agents need more tokens this month.
              </p>
            )}
          </section>
        </>
      ) : null}
      <LimitsPanel tenantId={tenantId} refresh={version} />
    </main>
  );
}
