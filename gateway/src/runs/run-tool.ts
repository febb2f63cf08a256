import type { ContentBlock } from "@workforce/protocol";
import { AppError } from "@workforce/protocol";
import { storageError } from "../fs/storage-error";
import { errorText, type Logger } from "../logger";
import type { Tool, ToolContext } from "../tools/tool";

/** Tool output returned to the model is capped so one huge file cannot blow the context window. */
export const MAX_TOOL_OUTPUT_CHARS = 32_000;

/**
 * Runs one tool call; errors become an error result the model can read, never a failed run. The
 * result goes to the model, the client and the transcript, so a failure that is not an AppError
 * (whose message is written for them) is told generically there, and in full only in the log:
 * Node's messages carry absolute paths and errno text.
 */
export async function runTool(
  tools: readonly Tool[],
  call: Extract<ContentBlock, { type: "tool-call" }>,
  context: ToolContext,
  logger: Logger,
): Promise<{ output: string; isError: boolean }> {
  const tool = tools.find((candidate) => candidate.spec.name === call.name);
  if (!tool) return { output: `unknown tool "${call.name}"`, isError: true };
  try {
    const output = await tool.execute(call.input, context);
    return { output: output.length > MAX_TOOL_OUTPUT_CHARS ? `${output.slice(0, MAX_TOOL_OUTPUT_CHARS)}\n[output truncated]` : output, isError: false };
  } catch (error) {
    if (context.signal.aborted) throw context.signal.reason;
    const known = error instanceof AppError ? error : storageError(error);
    if (known?.cause !== undefined) logger.warn(`tool ${call.name} failed: ${known.code} (${errorText(known.cause)})`);
    if (known) return { output: `${known.code}: ${known.message}`, isError: true };
    logger.error(`tool ${call.name} failed unexpectedly`, error);
    return { output: `internal_error: the ${call.name} tool failed because of an internal gateway error`, isError: true };
  }
}
