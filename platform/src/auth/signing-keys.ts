import type { KeyObject } from "node:crypto";
import type { SystemDatabase } from "../db/schema";
import type { MasterKey } from "../secrets/master-key";
import { embeddedTokenVerifier, issueAccessToken, SIGNING_ALGORITHM, type AccessTokenIssuer, type AccessTokenVerifier, type SigningKey } from "./access-token";
import {
  decryptPrivateKey,
  ensureSigningKeys,
  publicKeyFromJwk,
  readActiveSigningKeys,
  revokeSigningKey,
  rotateSigningKeys,
  type PublicJwk,
  type Revocation,
  type Rotation,
} from "./signing-key-store";

/** How often every process re-reads the keys, so a rotation made elsewhere is used within a minute. */
export const SIGNING_KEYS_REFRESH_MS = 60_000;
/** A token naming an unknown kid re-reads the keys at once, but at most this often (junk tokens cost no more). */
export const UNKNOWN_KID_REFRESH_MS = 5_000;

export interface JsonWebKey extends PublicJwk {
  kid: string;
  alg: typeof SIGNING_ALGORITHM;
  use: "sig";
  key_ops: ["verify"];
}

/** What `GET /auth/v1/.well-known/jwks.json` serves. */
export interface JsonWebKeySet {
  keys: JsonWebKey[];
}

export interface SigningKeyRingDeps {
  system: SystemDatabase;
  masterKey: MasterKey;
  /** The master key being rotated away from (decision 029): keys not yet re-wrapped still decrypt with it. */
  previousMasterKey?: MasterKey | undefined;
  now: () => Date;
  /** Where a failed background refresh is reported (the ring keeps its last keys). */
  logError: (message: string, error: unknown) => void;
  refreshIntervalMs?: number;
  unknownKidRefreshMs?: number;
}

/** The embedded auth's signing keys as one process sees them: signs, verifies, publishes, follows rotations. */
export interface SigningKeyRing {
  /** Creates the first current and standby keys when there are none, then reads them. Call once at start-up. */
  load(): Promise<void>;
  /** Re-reads the keys (also done every `refreshIntervalMs` once started). */
  refresh(): Promise<void>;
  /** Starts the periodic refresh (an unref'd timer). */
  start(): void;
  stop(): void;
  /** Signs with the current key. */
  issueAccessToken: AccessTokenIssuer;
  /** Accepts ES256 tokens of current, standby and previous keys; `issuer` pins `iss` when known. */
  verifier: (options: { issuer: string | undefined }) => AccessTokenVerifier;
  /** The public keys of current, standby and previous keys, current first. */
  jwks: () => JsonWebKeySet;
  /** The kid new tokens are signed with. */
  currentKid: () => string;
  /** Rotates (see `rotateSigningKeys`) and uses the new current key at once in this process. */
  rotate(): Promise<Rotation>;
  /** Revokes (see `revokeSigningKey`); tokens of that key are refused at once in this process. */
  revoke(kid: string): Promise<Revocation>;
}

interface Loaded {
  current: SigningKey;
  publicKeys: Map<string, KeyObject>;
  jwks: JsonWebKeySet;
}

export function createSigningKeyRing(deps: SigningKeyRingDeps): SigningKeyRing {
  const refreshIntervalMs = deps.refreshIntervalMs ?? SIGNING_KEYS_REFRESH_MS;
  const unknownKidRefreshMs = deps.unknownKidRefreshMs ?? UNKNOWN_KID_REFRESH_MS;
  let loaded: Loaded | undefined;
  let inFlight: Promise<void> | undefined;
  let lastRefreshStartedAt = -Infinity;
  let timer: NodeJS.Timeout | undefined;

  async function read(): Promise<void> {
    lastRefreshStartedAt = deps.now().getTime();
    const keys = await readActiveSigningKeys(deps.system);
    const current = keys.find((key) => key.status === "current");
    if (!current?.encryptedPrivateKey) throw new Error("there is no current signing key; restart the platform to create one");
    // The current key's private key is decrypted once per kid, not on every refresh.
    const privateKey =
      loaded?.current.kid === current.kid ? loaded.current.privateKey : decryptPrivateKey({ current: deps.masterKey, previous: deps.previousMasterKey }, current.kid, current.encryptedPrivateKey);
    const ordered = [current, ...keys.filter((key) => key.status === "standby"), ...keys.filter((key) => key.status === "previous")];
    loaded = {
      current: { kid: current.kid, privateKey },
      publicKeys: new Map(ordered.map((key) => [key.kid, loaded?.publicKeys.get(key.kid) ?? publicKeyFromJwk(key.publicJwk)])),
      jwks: {
        keys: ordered.map((key) => ({ ...key.publicJwk, kid: key.kid, alg: SIGNING_ALGORITHM, use: "sig", key_ops: ["verify"] })),
      },
    };
  }

  /** One read at a time: concurrent callers share it. */
  function refresh(): Promise<void> {
    inFlight ??= read().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }

  /** A read that starts after a change this process just committed (an in-flight one may predate it). */
  async function refreshAfterChange(): Promise<void> {
    await inFlight?.catch(() => undefined);
    await refresh();
  }

  function state(): Loaded {
    if (!loaded) throw new Error("the signing keys are not loaded yet (call load() at start-up)");
    return loaded;
  }

  async function publicKey(kid: string): Promise<KeyObject | undefined> {
    const known = state().publicKeys.get(kid);
    if (known) return known;
    // A kid created since the last refresh (a rotation elsewhere): look once, then not again for a while.
    if (deps.now().getTime() - lastRefreshStartedAt < unknownKidRefreshMs) return undefined;
    try {
      await refresh();
    } catch (error) {
      deps.logError("could not re-read the signing keys", error);
    }
    return state().publicKeys.get(kid);
  }

  return {
    async load() {
      await ensureSigningKeys(deps.system, deps.masterKey, deps.now());
      await refreshAfterChange();
    },
    refresh,
    start() {
      if (timer) return;
      timer = setInterval(() => {
        refresh().catch((error: unknown) => deps.logError("could not re-read the signing keys; still using the last ones", error));
      }, refreshIntervalMs);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
    issueAccessToken: (options) => issueAccessToken({ ...options, signingKey: state().current }),
    verifier: ({ issuer }) => embeddedTokenVerifier({ publicKey, issuer, now: deps.now }),
    jwks: () => state().jwks,
    currentKid: () => state().current.kid,
    async rotate() {
      const rotation = await rotateSigningKeys(deps.system, deps.masterKey, deps.now());
      await refreshAfterChange();
      return rotation;
    },
    async revoke(kid) {
      const revocation = await revokeSigningKey(deps.system, deps.masterKey, kid, deps.now());
      await refreshAfterChange();
      return revocation;
    },
  };
}
