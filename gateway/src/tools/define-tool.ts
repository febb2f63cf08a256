import { AppError, describeZodError } from "@workforce/protocol";
import { z } from "zod";
import type { Tool, ToolContext } from "./tool";

/** A tool whose input is a zod object: the JSON Schema sent to the model is derived from it, and input is validated with it. */
export function defineTool<S extends z.ZodObject>(definition: {
  name: string;
  description: string;
  input: S;
  run(input: z.output<S>, context: ToolContext): Promise<string>;
}): Tool {
  const { $schema: _ignored, ...inputSchema } = z.toJSONSchema(definition.input) as Record<string, unknown>;
  return {
    spec: { name: definition.name, description: definition.description, inputSchema },
    async execute(input, context) {
      const parsed = definition.input.safeParse(input ?? {});
      if (!parsed.success) throw new AppError("validation_failed", describeZodError(parsed.error, "input"));
      return definition.run(parsed.data, context);
    },
  };
}
