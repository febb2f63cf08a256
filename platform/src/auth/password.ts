/**
 * Password hashes: argon2id at OWASP's parameters (19 MiB, 2 passes, 1 lane) in PHC strings, so
 * the parameters travel with each hash and can be raised later. Hashes of the earlier scrypt
 * scheme (`scrypt$N$r$p$salt$key`, N = 2^14, below OWASP's floor) still verify, and `needsRehash`
 * tells the caller to store a new hash at the next successful sign-in.
 *
 * The functions below compute at once; the auth service uses `createPasswordHasher`, which runs
 * every hash through the hash limiter so a flood cannot take libuv's whole thread pool.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";
import { hash as argon2Hash, parseOptions, verify as argon2Verify, type Algorithm, type Version } from "@node-rs/argon2";
import { AppError } from "@workforce/protocol";
import type { HashLimiter } from "./hash-limiter";

/** The argon2id parameters new hashes get; a stored hash below any of them `needsRehash`. */
export interface PasswordHashParameters {
  /** Memory in KiB (`m=`). */
  memoryCost: number;
  /** Passes (`t=`). */
  timeCost: number;
  /** Lanes (`p=`). */
  parallelism: number;
}

/** OWASP Password Storage Cheat Sheet, argon2id: m = 19 MiB, t = 2, p = 1. */
export const PASSWORD_HASH_PARAMETERS: PasswordHashParameters = { memoryCost: 19 * 1024, timeCost: 2, parallelism: 1 };

/**
 * Longer passwords are refused before anything is hashed: nobody types more, and hashing costs
 * grow with the input. Counted in UTF-8 bytes after NFKC normalisation.
 */
export const MAX_PASSWORD_BYTES = 1024;

// The package's enums are `const enum`s, which isolated modules cannot read: the values are fixed by the format.
const ARGON2ID = 2 as Algorithm;
const VERSION_0X13 = 1 as Version;
const OUTPUT_BYTES = 32;

/** The form passwords are hashed in (the same text typed on another keyboard or OS gives the same bytes); refuses absurd lengths. */
function preparePassword(password: string): string {
  const normalized = password.normalize("NFKC");
  if (Buffer.byteLength(normalized, "utf8") > MAX_PASSWORD_BYTES) {
    throw new AppError("validation_failed", `Passwords can be at most ${MAX_PASSWORD_BYTES} bytes long.`);
  }
  return normalized;
}

/** Throws `validation_failed` when the password is too long to hash; for checks before a hash is queued. */
export function assertPasswordLength(password: string): void {
  preparePassword(password);
}

/** Hashes a password with argon2id; the PHC string carries its salt and parameters. */
export async function hashPassword(password: string, parameters: PasswordHashParameters = PASSWORD_HASH_PARAMETERS): Promise<string> {
  return argon2Hash(preparePassword(password), { ...parameters, algorithm: ARGON2ID, version: VERSION_0X13, outputLen: OUTPUT_BYTES });
}

/** The earlier scheme's parameters, bounded so a corrupt row cannot ask for gigabytes. */
function legacyScryptParameters(n: string, r: string, p: string): ScryptOptions | undefined {
  const [N, R, P] = [Number(n), Number(r), Number(p)];
  const powerOfTwo = Number.isInteger(N) && N >= 2 && N <= 2 ** 20 && (N & (N - 1)) === 0;
  if (!powerOfTwo || !Number.isInteger(R) || R < 1 || R > 32 || !Number.isInteger(P) || P < 1 || P > 16) return undefined;
  return { N, r: R, p: P, maxmem: 256 * N * R + 1024 * 1024 };
}

function deriveScrypt(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keyLength, options, (error, key) => {
      if (error) reject(error);
      else resolve(key);
    });
  });
}

async function verifyLegacyScrypt(password: string, stored: string): Promise<boolean> {
  const [, n = "", r = "", p = "", saltText, keyText] = stored.split("$");
  const options = legacyScryptParameters(n, r, p);
  if (!options || !saltText || !keyText) return false;
  const expected = Buffer.from(keyText, "base64");
  if (expected.length < 16 || expected.length > 128) return false;
  const key = await deriveScrypt(password, Buffer.from(saltText, "base64"), expected.length, options);
  return timingSafeEqual(key, expected);
}

/**
 * Whether `password` matches `stored` (argon2id PHC, or the earlier scrypt scheme), in constant
 * time. A malformed stored hash never matches; a too-long password throws `validation_failed`.
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const prepared = preparePassword(password);
  if (stored.startsWith("scrypt$")) return verifyLegacyScrypt(prepared, stored);
  if (!stored.startsWith("$argon2id$")) return false;
  try {
    return await argon2Verify(stored, prepared);
  } catch {
    return false;
  }
}

/**
 * Whether a stored hash should be replaced (after a successful sign-in, while the password is at
 * hand): any scheme but argon2id, or argon2id weaker than `parameters` in memory, passes, output
 * length or version. Stronger hashes are left alone.
 */
export function needsRehash(stored: string, parameters: PasswordHashParameters = PASSWORD_HASH_PARAMETERS): boolean {
  if (!stored.startsWith("$argon2id$")) return true;
  try {
    const options = parseOptions(stored);
    return (
      options.algorithm !== ARGON2ID ||
      options.version !== VERSION_0X13 ||
      options.memoryCost < parameters.memoryCost ||
      options.timeCost < parameters.timeCost ||
      options.outputLen < OUTPUT_BYTES
    );
  } catch {
    return true;
  }
}


/** Hashing as the auth service uses it: bounded by the hash limiter, with a dummy for unknown accounts. */
export interface PasswordHasher {
  /** A new argon2id hash. Throws `validation_failed` (too long) before queueing, `rate_limited` when the hash queue is full. */
  hash(password: string): Promise<string>;
  /**
   * Whether `password` matches `stored`. With `stored` undefined (no such account) it verifies
   * against a dummy hash instead and returns false, taking as long as a real check, so response
   * times do not tell which accounts exist.
   */
  verify(password: string, stored: string | undefined): Promise<boolean>;
  /** See `needsRehash`: true means hash the password again and store it. */
  needsRehash(stored: string): boolean;
}

export interface PasswordHasherOptions {
  limiter: HashLimiter;
  /** Parameters of new hashes (default `PASSWORD_HASH_PARAMETERS`; never go below them in production). */
  parameters?: PasswordHashParameters;
}

export function createPasswordHasher(options: PasswordHasherOptions): PasswordHasher {
  const parameters = options.parameters ?? PASSWORD_HASH_PARAMETERS;
  let dummy: Promise<string> | undefined;
  // Made on first use (not at start-up, which it would slow), once; a failure is retried next time.
  const dummyHash = () =>
    (dummy ??= options.limiter.run(() => hashPassword(randomBytes(32).toString("base64url"), parameters)).catch((error: unknown) => {
      dummy = undefined;
      throw error;
    }));

  return {
    async hash(password) {
      assertPasswordLength(password);
      return options.limiter.run(() => hashPassword(password, parameters));
    },
    async verify(password, stored) {
      assertPasswordLength(password);
      if (stored === undefined) {
        const hash = await dummyHash();
        await options.limiter.run(() => verifyPassword(password, hash));
        return false;
      }
      return options.limiter.run(() => verifyPassword(password, stored));
    },
    needsRehash: (stored) => needsRehash(stored, parameters),
  };
}
