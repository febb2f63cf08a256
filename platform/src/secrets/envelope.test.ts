import { describe, expect, it } from "vitest";
import { decryptSecret, encryptSecret, envelopeMasterKeyId, SecretDecryptionError } from "./envelope";
import { generateMasterKey } from "./master-key";

const master = generateMasterKey();
const AD = "signing-key:kid-1";

function failure(run: () => unknown): SecretDecryptionError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(SecretDecryptionError);
    return error as SecretDecryptionError;
  }
  throw new Error("expected decryption to fail");
}

/** Flips one bit of one base64url character of part `index`, keeping the part valid base64url. */
function flipPart(value: string, index: number): string {
  const parts = value.split(".");
  const bytes = Buffer.from(parts[index]!, "base64url");
  bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
  parts[index] = bytes.toString("base64url");
  return parts.join(".");
}

describe("envelope encryption", () => {
  it("round-trips text and bytes, with a fresh data key and nonce every time", () => {
    const first = encryptSecret(master, "sk-live-123 ✓", AD);
    const second = encryptSecret(master, "sk-live-123 ✓", AD);
    expect(first).toMatch(/^v1\.[0-9a-f]{16}\./);
    expect(first).not.toBe(second);
    expect(first).not.toContain("sk-live");
    expect(decryptSecret(master, first, AD).toString("utf8")).toBe("sk-live-123 ✓");
    const bytes = new Uint8Array([0, 1, 2, 255]);
    expect([...decryptSecret(master, encryptSecret(master, bytes, AD), AD)]).toEqual([0, 1, 2, 255]);
    expect(decryptSecret(master, encryptSecret(master, "", AD), AD).length).toBe(0);
  });

  it("names the master key a value was encrypted with", () => {
    expect(envelopeMasterKeyId(encryptSecret(master, "x", AD))).toBe(master.id);
    expect(envelopeMasterKeyId("plain text")).toBeUndefined();
  });

  it.each([
    [2, "wrap nonce"],
    [3, "wrapped data key"],
    [4, "nonce"],
    [5, "ciphertext"],
  ])("detects a change to part %i (%s)", (index) => {
    const value = encryptSecret(master, "the secret", AD);
    expect(failure(() => decryptSecret(master, flipPart(value, index), AD)).reason).toBe("tampered");
  });

  it("detects a changed master key id, version, truncation and stray characters", () => {
    const value = encryptSecret(master, "the secret", AD);
    const parts = value.split(".");
    const otherId = `${parts[1]!.slice(0, 15)}${parts[1]!.endsWith("0") ? "1" : "0"}`;
    expect(failure(() => decryptSecret(master, [parts[0], otherId, ...parts.slice(2)].join("."), AD)).reason).toBe("wrong_master_key");
    expect(failure(() => decryptSecret(master, `v2${value.slice(2)}`, AD)).reason).toBe("unsupported_version");
    expect(failure(() => decryptSecret(master, parts.slice(0, 5).join("."), AD)).reason).toBe("malformed");
    expect(failure(() => decryptSecret(master, `${value}.extra`, AD)).reason).toBe("malformed");
    expect(failure(() => decryptSecret(master, value.slice(0, -4), AD)).reason).toMatch(/^(malformed|tampered)$/);
    expect(failure(() => decryptSecret(master, value.replace(/\.([^.]*)$/, ".*$1"), AD)).reason).toBe("malformed");
    // A tag cut short is refused before GCM would accept a shorter tag.
    const shortTag = [...parts.slice(0, 5), Buffer.from(parts[5]!, "base64url").subarray(0, 8).toString("base64url")].join(".");
    expect(failure(() => decryptSecret(master, shortTag, AD)).reason).toBe("malformed");
  });

  it("says which master key a value needs when another one is configured", () => {
    const value = encryptSecret(master, "the secret", AD);
    const other = generateMasterKey();
    const error = failure(() => decryptSecret(other, value, AD));
    expect(error.reason).toBe("wrong_master_key");
    expect(error.message).toBe(`this value was encrypted with master key ${master.id}, not the configured one (${other.id})`);
    expect(error.encryptedWith).toBe(master.id);
  });

  it("binds a value to its associated data, so it cannot be moved to another row", () => {
    const value = encryptSecret(master, "the secret", "signing-key:a");
    const error = failure(() => decryptSecret(master, value, "signing-key:b"));
    expect(error.reason).toBe("tampered");
    expect(error.message).toMatch(/belongs to another row/);
  });

  it("detects a wrapped data key swapped in from another value", () => {
    const a = encryptSecret(master, "secret a", AD).split(".");
    const b = encryptSecret(master, "secret b", AD).split(".");
    const mixed = [...a.slice(0, 2), b[2], b[3], ...a.slice(4)].join(".");
    expect(failure(() => decryptSecret(master, mixed, AD)).reason).toBe("tampered");
  });
});
