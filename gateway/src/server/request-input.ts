import { AppError, describeZodError } from "@workforce/protocol";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { z } from "zod";
import { parseJson } from "../fs/jsonl-file";

/** Reads a JSON body and validates it: invalid_json for bad JSON, validation_failed naming each bad field. */
export async function readJsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  const text = await readBodyText(c);
  const value = text.trim() === "" ? undefined : parseJson(text);
  if (text.trim() !== "" && value === undefined) throw new AppError("invalid_json", "the request body is not valid JSON");
  if (value === undefined) throw new AppError("validation_failed", "the request needs a JSON body");
  return validate(schema, value, "body");
}

/**
 * The body as text. Reading fails only because of the client (it promised more bytes than it sent
 * and hung up): a 400 for the record, not an internal_error logged as a gateway fault.
 */
async function readBodyText(c: Context): Promise<string> {
  try {
    return await c.req.text();
  } catch (error) {
    if (error instanceof AppError || error instanceof HTTPException) throw error;
    throw new AppError("validation_failed", "the request body was not received completely", { cause: error });
  }
}

/** Node's error for a request whose client hung up before sending all of it. */
export function isClientAbort(error: unknown): boolean {
  return error instanceof Error && error.message === "aborted" && (error as NodeJS.ErrnoException).code === "ECONNRESET";
}

export function validate<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new AppError("validation_failed", describeZodError(parsed.error, where));
  return parsed.data;
}
