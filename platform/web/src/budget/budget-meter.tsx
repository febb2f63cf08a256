import { useId } from "react";
import { formatNumber } from "../usage/format";
import { formatResetDay } from "./budget-text";

/**
 * This month's tokens against the limit in force, as a bar with the numbers beside it. Past the
 * limit the bar is full and says so in words: colour alone would not tell everyone.
 */
export function BudgetMeter({ used, limit, periodEnd }: { used: number; limit: number | null; periodEnd: string }) {
  const id = useId();
  const resets = `Resets on ${formatResetDay(periodEnd)}.`;
  if (limit === null) {
    return (
      <div className="budget-meter" data-testid="budget-meter">
        <p className="budget-figures">
          <strong data-testid="budget-used">{formatNumber(used)}</strong> tokens used this month. No monthly limit applies.
        </p>
        <p className="muted small">{resets}</p>
      </div>
    );
  }
  const share = limit === 0 ? 1 : used / limit;
  const exceeded = used >= limit;
  const state = exceeded ? "exceeded" : share >= 0.8 ? "near" : "ok";
  return (
    <div className={`budget-meter budget-${state}`} data-testid="budget-meter" data-state={state}>
      <p className="budget-figures" id={`${id}-label`}>
        <strong data-testid="budget-used">{formatNumber(used)}</strong> of <strong>{formatNumber(limit)}</strong> {limit === 1 ? "token" : "tokens"} used this month
        {exceeded ? "" : ` (${Math.round(share * 100)}%)`}.
      </p>
      <progress className="budget-bar" aria-labelledby={`${id}-label`} max={Math.max(limit, 1)} value={Math.min(used, Math.max(limit, 1))} />
      {exceeded ? (
        <p className="budget-exceeded-note" role="note" data-testid="budget-exceeded">
          <strong>The limit is reached.</strong> New messages and scheduled runs are refused until it resets on {formatResetDay(periodEnd)}, or until the limit is raised.
        </p>
      ) : (
        <p className="muted small">
          {formatNumber(limit - used)} tokens left. {resets}
        </p>
      )}
    </div>
  );
}
