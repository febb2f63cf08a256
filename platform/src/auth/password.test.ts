import { randomBytes, scryptSync } from "node:crypto";
import { AppError } from "@workforce/protocol";
import { describe, expect, it } from "vitest";
import { createHashLimiter } from "./hash-limiter";
import { createPasswordHasher, hashPassword, MAX_PASSWORD_BYTES, needsRehash, verifyPassword } from "./password";

/** A hash as the platform stored them before argon2id (scrypt, N = 2^14, r = 8, p = 1). */
function legacyScryptHash(password: string): string {
  const salt = randomBytes(16);
  const key = scryptSync(password.normalize("NFKC"), salt, 64, { N: 16384, r: 8, p: 1 });
  return `scrypt$16384$8$1$${salt.toString("base64")}$${key.toString("base64")}`;
}

describe("password hashes", () => {
  it("hashes with argon2id at OWASP's parameters into a PHC string that verifies", async () => {
    const stored = await hashPassword("correct horse battery");
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(await verifyPassword("correct horse battery", stored)).toBe(true);
    expect(await verifyPassword("correct horse batterY", stored)).toBe(false);
    expect(needsRehash(stored)).toBe(false);
    // A fresh salt each time.
    expect(await hashPassword("correct horse battery")).not.toBe(stored);
  });

  it("still verifies hashes of the earlier scrypt scheme, and asks for them to be re-hashed", async () => {
    const stored = legacyScryptHash("old but gold password");
    expect(await verifyPassword("old but gold password", stored)).toBe(true);
    expect(await verifyPassword("old but bold password", stored)).toBe(false);
    expect(needsRehash(stored)).toBe(true);
  });

  it("asks for weaker argon2id hashes to be re-hashed, not for stronger ones", async () => {
    const weaker = await hashPassword("a password", { memoryCost: 4096, timeCost: 1, parallelism: 1 });
    expect(await verifyPassword("a password", weaker)).toBe(true);
    expect(needsRehash(weaker)).toBe(true);
    const stronger = await hashPassword("a password", { memoryCost: 19456, timeCost: 3, parallelism: 1 });
    expect(needsRehash(stronger)).toBe(false);
  });

  it("treats the same text typed in another Unicode form as the same password", async () => {
    const composed = "caf\u00e9 au lait";
    const stored = await hashPassword(composed);
    expect(await verifyPassword("cafe\u0301 au lait", stored)).toBe(true);
  });

  it("never matches a malformed stored hash", async () => {
    for (const stored of ["", "plain text", "scrypt$16384$8$1$", "scrypt$3$8$1$AAAA$AAAA", "$argon2id$v=19$m=19456,t=2,p=1$broken", "$argon2i$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAA"]) {
      expect(await verifyPassword("anything", stored)).toBe(false);
      expect(needsRehash(stored)).toBe(true);
    }
  });

  it("refuses passwords over the byte limit before hashing anything", async () => {
    const limiter = createHashLimiter();
    const hasher = createPasswordHasher({ limiter });
    const tooLong = "é".repeat(MAX_PASSWORD_BYTES / 2 + 1);
    const refused = await hasher.hash(tooLong).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ code: "validation_failed", status: 400, message: "Passwords can be at most 1024 bytes long." });
    await expect(hasher.verify(tooLong, undefined)).rejects.toMatchObject({ code: "validation_failed" });
    expect(limiter.stats().completed).toBe(0);
    // The limit itself is allowed.
    expect(await hasher.verify("x".repeat(MAX_PASSWORD_BYTES), await hasher.hash("x".repeat(MAX_PASSWORD_BYTES)))).toBe(true);
  });

  it("checks unknown accounts against a dummy hash made once, which never matches", async () => {
    const limiter = createHashLimiter();
    const hasher = createPasswordHasher({ limiter });
    expect(await hasher.verify("", undefined)).toBe(false);
    expect(await hasher.verify("correct horse battery", undefined)).toBe(false);
    // One dummy hash, then one verification per call: unknown accounts cost a real check.
    expect(limiter.stats().completed).toBe(3);
  });

  it("re-hashes through the hasher at the current parameters", async () => {
    const hasher = createPasswordHasher({ limiter: createHashLimiter() });
    const legacy = legacyScryptHash("upgrade me please");
    expect(await hasher.verify("upgrade me please", legacy)).toBe(true);
    expect(hasher.needsRehash(legacy)).toBe(true);
    const upgraded = await hasher.hash("upgrade me please");
    expect(hasher.needsRehash(upgraded)).toBe(false);
    expect(await hasher.verify("upgrade me please", upgraded)).toBe(true);
  });
});
