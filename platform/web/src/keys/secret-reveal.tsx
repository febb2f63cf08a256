import type { CreatedApiKey } from "../api/platform-schemas";
import { OneTimeSecret } from "../ui/one-time-secret";

/** The new key's secret, shown once: the platform stores only its hash. */
export function SecretReveal({ created, onDone }: { created: CreatedApiKey; onDone: () => void }) {
  return (
    <OneTimeSecret testId="key-secret" region="New API key" inputLabel={`Secret of ${created.key.name}`} copyLabel="Copy key" secret={created.secret} onDone={onDone}>
      <strong>Copy the key “{created.key.name}” now. You won't see it again:</strong> Workforce keeps only a hash of it. If you lose it, revoke it and create
      another.
    </OneTimeSecret>
  );
}
