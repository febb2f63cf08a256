import { decryptSecret, envelopeMasterKeyId } from "./envelope";
import type { MasterKey } from "./master-key";

/**
 * The master keys one process holds (decision 029): `current` encrypts everything new; `previous`
 * (WORKFORCE_SECRET_KEY_PREVIOUS, or the key file's predecessor) only decrypts, while a master-key
 * rotation re-wraps what it still protects. Each stored value names its key, so the right one is
 * picked without trying both.
 */
export interface MasterKeyRing {
  readonly current: MasterKey;
  readonly previous?: MasterKey | undefined;
}

/** The ring's key that `value` names; the current key when it names neither (decryption then says which key it needs). */
export function masterKeyFor(ring: MasterKeyRing, value: string): MasterKey {
  const id = envelopeMasterKeyId(value);
  return ring.previous && id === ring.previous.id ? ring.previous : ring.current;
}

/** `decryptSecret` with whichever of the ring's keys the value was encrypted with. */
export function decryptWithRing(ring: MasterKeyRing, value: string, associatedData: string): Buffer {
  return decryptSecret(masterKeyFor(ring, value), value, associatedData);
}
