import { AppError } from "@workforce/protocol";

export const MIN_PASSWORD_LENGTH = 8;
/** Longer passwords are refused before hashing: nobody types 1 KB, and hashing it costs the server. */
export const MAX_PASSWORD_BYTES = 1024;

/** Refuses passwords that are too short or absurdly long, before any hashing. */
export function checkNewPassword(password: string): void {
  if (Buffer.byteLength(password, "utf8") > MAX_PASSWORD_BYTES) {
    throw new AppError("weak_password", `Passwords are limited to ${MAX_PASSWORD_BYTES} bytes.`);
  }
  if (password.length < MIN_PASSWORD_LENGTH) throw new AppError("weak_password", `Password should be at least ${MIN_PASSWORD_LENGTH} characters.`);
}
