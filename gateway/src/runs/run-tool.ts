import type { ContentBlock } from "@workforce/protocol";
import { AppError } from "@workforce/protocol";
import type { Tool, ToolContext } from "../tools/tool";

/** Tool output returned to the model is capped so one huge file cannot blow the context window. */
export const MAX_TOOL_OUTPUT_CHARS = 32_000;

/** Runs one tool call; errors become an error result the model can read, never a failed run. */
export async function runTool(
  tools: readonly Tool[],
  call: Extract<ContentBlock, { type: "tool-call" }>,
  context: ToolContext,
): Promise<{ output: string; isError: boolean }> {
  const tool = tools.find((candidate) => candidate.spec.name === call.name);
  if (!tool) return { output: `unknown tool "${call.name}"`, isError: true };
  try {
    const output = await tool.execute(call.input, context);
    return { output: output.length > MAX_TOOL_OUTPUT_CHARS ? `${output.slice(0, MAX_TOOL_OUTPUT_CHARS)}\n[output truncated]` : output, isError: false };
  } catch (error) {
    if (context.signal.aborted) throw context.signal.reason;
    const message = error instanceof AppError ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);
    return { output: message, isError: true };
  }
}
