import { Link } from "../ui/link";

/**
 * The organisation's monthly tokens are used up: retrying cannot help until the month ends or the
 * limit is raised, so instead of Retry the reply points to the budget screen.
 */
export function BudgetExceededNotice() {
  return (
    <div className="notice" role="alert" data-testid="budget-exceeded-notice">
      <strong>This month's token budget is used up.</strong> New messages are refused until it resets or an owner or admin raises it.{" "}
      <Link to="/budget">See the budget</Link>
    </div>
  );
}

/** Errors that no Retry can fix from the chat. */
export function cannotRetry(code: string | undefined): boolean {
  return code === "budget_exceeded";
}
