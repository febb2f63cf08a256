import { AppError } from "@workforce/protocol";
import { MAX_PASSWORD_BYTES } from "./password";

export const MIN_PASSWORD_LENGTH = 8;

/** Refuses passwords that are too short or absurdly long, before any hashing. */
export function checkNewPassword(password: string): void {
  if (Buffer.byteLength(password, "utf8") > MAX_PASSWORD_BYTES) {
    throw new AppError("weak_password", `Passwords are limited to ${MAX_PASSWORD_BYTES} bytes.`);
  }
  if (password.length < MIN_PASSWORD_LENGTH) throw new AppError("weak_password", `Password should be at least ${MIN_PASSWORD_LENGTH} characters.`);
}
