import { ErrorMessage } from "../ui/error-message";
import { Link } from "../ui/link";

/**
 * The organisation's monthly tokens are used up: retrying cannot help until the month ends or the
 * limit is raised, so instead of Retry the reply points to the budget screen.
 */
export function BudgetExceededNotice({ error }: { error: Parameters<typeof ErrorMessage>[0]["error"] }) {
  // The general sentence (with the day it resets, the code under Details), and the way to the budget.
  return (
    <div data-testid="budget-exceeded-notice">
      <ErrorMessage error={error} className="inline">
        <Link to="/budget">See the budget</Link>
      </ErrorMessage>
    </div>
  );
}

/** Errors that no Retry can fix from the chat. */
export function cannotRetry(code: string | undefined): boolean {
  return code === "budget_exceeded";
}
