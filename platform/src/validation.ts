import { AppError, describeZodError } from "@workforce/protocol";
import type { Context } from "hono";
import type { z } from "zod";

/** Reads and validates a JSON body: invalid JSON → 400 invalid_json, bad fields → 400 validation_failed naming them. */
export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  let body: unknown;
  try {
    const text = await c.req.text();
    body = text.trim() === "" ? {} : JSON.parse(text);
  } catch {
    throw new AppError("invalid_json", "request body is not valid JSON");
  }
  return parseWith(schema, body);
}

/** Validates any untrusted value (query, params, headers); failures name the field. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, prefix = ""): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new AppError("validation_failed", describeZodError(result.error, prefix));
  return result.data;
}
