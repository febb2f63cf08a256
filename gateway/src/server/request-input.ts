import { AppError, describeZodError } from "@workforce/protocol";
import type { Context } from "hono";
import type { z } from "zod";
import { parseJson } from "../fs/jsonl-file";

/** Reads a JSON body and validates it: invalid_json for bad JSON, validation_failed naming each bad field. */
export async function readJsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  const text = await c.req.text();
  const value = text.trim() === "" ? undefined : parseJson(text);
  if (text.trim() !== "" && value === undefined) throw new AppError("invalid_json", "the request body is not valid JSON");
  if (value === undefined) throw new AppError("validation_failed", "the request needs a JSON body");
  return validate(schema, value, "body");
}

export function validate<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new AppError("validation_failed", describeZodError(parsed.error, where));
  return parsed.data;
}
