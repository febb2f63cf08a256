import type { FiringStatus, ScheduleView } from "@workforce/protocol";

/** A time as this browser's user reads it: "Thu, 3 Dec, 09:00". */
export function localTime(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
}

/** How a schedule's timing reads: "0 9 * * 1-5 (Europe/Berlin)", "Once at …", "Every 30 minutes". */
export function describeTiming(schedule: Pick<ScheduleView, "kind" | "cron" | "at" | "everyMinutes" | "timezone">): string {
  if (schedule.kind === "cron") return `Cron ${schedule.cron ?? ""} (${schedule.timezone})`;
  if (schedule.kind === "at") return schedule.at ? `Once at ${localTime(schedule.at)}` : "Once";
  const minutes = schedule.everyMinutes ?? 0;
  if (minutes % 1_440 === 0) return minutes === 1_440 ? "Every day" : `Every ${minutes / 1_440} days`;
  if (minutes % 60 === 0) return minutes === 60 ? "Every hour" : `Every ${minutes / 60} hours`;
  return minutes === 1 ? "Every minute" : `Every ${minutes} minutes`;
}

export const FIRING_STATUS_TEXT: Record<FiringStatus, string> = {
  pending: "Starting",
  started: "Running",
  refused: "Refused",
  skipped: "Skipped",
  completed: "Completed",
  failed: "Failed",
};

/** Badge class of a firing's status (the MCP rows' colours). */
export function firingBadge(status: FiringStatus): string {
  if (status === "completed") return "badge badge-ok";
  if (status === "refused" || status === "failed") return "badge badge-danger";
  if (status === "skipped") return "badge badge-warning";
  return "badge";
}
