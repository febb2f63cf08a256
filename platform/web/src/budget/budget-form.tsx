import { useId, useState, type FormEvent } from "react";
import type { Budget } from "../api/governance-api";
import { useServices } from "../services";
import { ErrorMessage } from "../ui/error-message";
import { useAction } from "../ui/use-action";
import { formatNumber } from "../usage/format";
import { parseTokens } from "./budget-text";

/**
 * Owners and admins set the organisation's own monthly budget, raise it, or remove it (the plan's
 * limit then holds alone). The number is checked here before it is sent.
 */
export function BudgetForm({ budget, plan, onSaved }: { budget: Budget; plan: number | null; onSaved: (budget: Budget) => void }) {
  const { api } = useServices();
  const [text, setText] = useState(budget.monthlyTokens === null ? "" : String(budget.monthlyTokens));
  const [fieldError, setFieldError] = useState<string>();
  const [saved, setSaved] = useState<string>();
  const { busy, error, act } = useAction();
  const id = useId();
  const typed = parseTokens(text);

  function save(monthlyTokens: number | null) {
    setSaved(undefined);
    void act(async () => {
      const next = await api.governance.setBudget(monthlyTokens);
      onSaved(next);
      setText(next.monthlyTokens === null ? "" : String(next.monthlyTokens));
      setSaved(next.monthlyTokens === null ? "Budget removed." : `Budget set to ${formatNumber(next.monthlyTokens)} ${next.monthlyTokens === 1 ? "token" : "tokens"} a month.`);
    });
  }

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (typed === undefined) {
      setFieldError("Enter a whole number of tokens, such as 1000000.");
      return;
    }
    setFieldError(undefined);
    save(typed);
  }

  // Above the plan a budget changes nothing: say so before it is saved, not after.
  const abovePlan = plan !== null && typed !== undefined && typed > plan;
  return (
    <form className="budget-form" onSubmit={submit} noValidate aria-label="Set the monthly budget">
      <div className="inline-form">
        <div className="field grow">
          <label htmlFor={`${id}-tokens`}>Monthly token budget</label>
          <input
            id={`${id}-tokens`}
            inputMode="numeric"
            autoComplete="off"
            placeholder="No budget"
            value={text}
            aria-invalid={fieldError ? true : undefined}
            aria-describedby={`${id}-hint${fieldError ? ` ${id}-error` : ""}`}
            onChange={(event) => {
              setText(event.target.value);
              setFieldError(undefined);
              setSaved(undefined);
            }}
          />
        </div>
        <button type="submit" className="button primary" disabled={busy || text.trim() === "" || typed === budget.monthlyTokens} aria-busy={busy}>
          Save budget
        </button>
        {budget.monthlyTokens !== null ? (
          <button type="button" className="button" disabled={busy} onClick={() => save(null)}>
            Remove budget
          </button>
        ) : null}
      </div>
      {fieldError ? (
        <p className="field-error" id={`${id}-error`}>
          {fieldError}
        </p>
      ) : null}
      <p className="hint" id={`${id}-hint`}>
        Input and output tokens of every run this month, all agents together.
        {abovePlan ? ` The plan allows ${formatNumber(plan)} tokens a month, so that limit holds until the operator raises it.` : ""}
      </p>
      {saved ? (
        <p className="small" role="status" data-testid="budget-saved">
          {saved}
        </p>
      ) : null}
      <ErrorMessage error={error} />
    </form>
  );
}
