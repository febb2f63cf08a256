import { AppError, type UserMessageEntry } from "@workforce/protocol";
import type { Transcript } from "../sessions/transcript";

/**
 * The user message an edit or regenerate replaces (decision 041): the one the run `runId` answered,
 * if it is still in the conversation. A run that left no message (it failed before writing one)
 * replaces nothing; one whose message an earlier edit withdrew is refused, so two tabs (or a double
 * click) editing the same message do not both land.
 */
export function replacedMessage(transcript: Transcript, runId: string | undefined): UserMessageEntry | undefined {
  if (runId === undefined) return undefined;
  const found = transcript.entries.find((entry): entry is UserMessageEntry => entry.type === "user" && entry.runId === runId);
  if (found) return found;
  if (transcript.withdrawnRuns.has(runId)) {
    throw new AppError("message_replaced", "that message was already edited or regenerated; reload the chat to see its latest version");
  }
  return undefined;
}
