import { createHash, randomBytes, randomInt, timingSafeEqual } from "node:crypto";
import { AppError } from "@workforce/protocol";
import type { OneTimeTokenKind, SystemTransaction } from "../db/schema";

/** How long each kind of mailed link or code works. */
export const ONE_TIME_TOKEN_TTL_MS: Record<OneTimeTokenKind, number> = {
  "confirm-signup": 24 * 60 * 60_000,
  "email-change": 24 * 60 * 60_000,
  recovery: 60 * 60_000,
  reauthentication: 10 * 60_000,
};

/** Wrong codes tried against one token before it stops working (a 6-digit code must not be guessable). */
export const MAX_CODE_ATTEMPTS = 5;

/** A link token and a 6-digit code for one mail; only their hashes are stored. */
export interface IssuedOneTimeToken {
  /** Goes into the link (`token_hash=` in GoTrue's terms). */
  token: string;
  /** Typed by hand instead of following the link. */
  code: string;
}

export interface ConsumedOneTimeToken {
  id: string;
  userId: string;
  kind: OneTimeTokenKind;
  email: string;
}

const sha256 = (value: string) => createHash("sha256").update(value).digest("hex");
/** A code is only six digits: salted with its row, so equal codes of two tokens hash apart. */
const codeHash = (id: string, code: string) => sha256(`${id}:${code}`);

/** What a caller answers when a token or code did not work (never saying which part was wrong). */
export const otpExpired = () => new AppError("otp_expired", "This link or code has expired or was already used; ask for a new one");

/**
 * Single-use tokens for email confirmation, password recovery, email change and
 * reauthentication. Issuing one replaces any unused token of the same kind for the user.
 */
export function createOneTimeTokens(now: () => Date) {
  return {
    async issue(trx: SystemTransaction, input: { userId: string; kind: OneTimeTokenKind; email: string }): Promise<IssuedOneTimeToken> {
      await trx.deleteFrom("one_time_tokens").where("user_id", "=", input.userId).where("kind", "=", input.kind).execute();
      const token = randomBytes(32).toString("base64url");
      const code = String(randomInt(0, 1_000_000)).padStart(6, "0");
      const row = await trx
        .insertInto("one_time_tokens")
        .values({
          user_id: input.userId,
          kind: input.kind,
          token_hash: sha256(token),
          code_hash: "",
          email: input.email,
          created_at: now(),
          expires_at: new Date(now().getTime() + ONE_TIME_TOKEN_TTL_MS[input.kind]),
        })
        .returning("id")
        .executeTakeFirstOrThrow();
      await trx.updateTable("one_time_tokens").set({ code_hash: codeHash(row.id, code) }).where("id", "=", row.id).execute();
      return { token, code };
    },

    /**
     * Uses the token from a link; any of `kinds` is accepted (GoTrue's `signup` and `email` both
     * confirm). Undefined when it is unknown, used or expired.
     */
    async consumeToken(trx: SystemTransaction, kinds: readonly OneTimeTokenKind[], token: string): Promise<ConsumedOneTimeToken | undefined> {
      const row = await trx
        .selectFrom("one_time_tokens")
        .select(["id", "user_id", "kind", "email", "expires_at", "used_at"])
        .where("token_hash", "=", sha256(token))
        .where("kind", "in", [...kinds])
        .forUpdate()
        .executeTakeFirst();
      if (!row || row.used_at || new Date(row.expires_at) <= now()) return undefined;
      await trx.updateTable("one_time_tokens").set({ used_at: now() }).where("id", "=", row.id).execute();
      return { id: row.id, userId: row.user_id, kind: row.kind, email: row.email };
    },

    /**
     * Uses a typed code sent to `email` (or to a user). A wrong code counts against the token;
     * after MAX_CODE_ATTEMPTS it stops working, so the code cannot be guessed. Undefined when
     * the code is wrong or no usable token exists: the caller lets the transaction commit (so
     * the attempt stays counted) and answers `otpExpired()`.
     */
    async consumeCode(
      trx: SystemTransaction,
      kinds: readonly OneTimeTokenKind[],
      where: { email: string } | { userId: string },
      code: string,
    ): Promise<ConsumedOneTimeToken | undefined> {
      let query = trx
        .selectFrom("one_time_tokens")
        .select(["id", "user_id", "kind", "email", "code_hash", "expires_at", "used_at", "attempts"])
        .where("kind", "in", [...kinds])
        .where("used_at", "is", null)
        .where("expires_at", ">", now())
        .orderBy("created_at", "desc")
        .limit(1)
        .forUpdate();
      query = "email" in where ? query.where("email", "=", where.email) : query.where("user_id", "=", where.userId);
      const row = await query.executeTakeFirst();
      if (!row || row.attempts >= MAX_CODE_ATTEMPTS) return undefined;
      const expected = Buffer.from(row.code_hash, "hex");
      const given = Buffer.from(codeHash(row.id, code.trim()), "hex");
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
        await trx.updateTable("one_time_tokens").set({ attempts: row.attempts + 1 }).where("id", "=", row.id).execute();
        return undefined;
      }
      await trx.updateTable("one_time_tokens").set({ used_at: now() }).where("id", "=", row.id).execute();
      return { id: row.id, userId: row.user_id, kind: row.kind, email: row.email };
    },

    /** Deletes tokens that expired or were used more than a day ago. */
    async prune(trx: SystemTransaction): Promise<number> {
      const dayAgo = new Date(now().getTime() - 24 * 60 * 60_000);
      const result = await trx.deleteFrom("one_time_tokens").where((eb) => eb.or([eb("expires_at", "<", dayAgo), eb("used_at", "<", dayAgo)])).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

export type OneTimeTokens = ReturnType<typeof createOneTimeTokens>;
