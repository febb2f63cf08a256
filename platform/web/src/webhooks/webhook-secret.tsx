import { OneTimeSecret } from "../ui/one-time-secret";

/** A signing secret, shown once (after creating an endpoint or rotating its secret). */
export function WebhookSecret({ url, secret, rotated, onDone }: { url: string; secret: string; rotated: boolean; onDone: () => void }) {
  return (
    <OneTimeSecret testId="webhook-secret" region="Signing secret" inputLabel={`Signing secret of ${url}`} copyLabel="Copy secret" secret={secret} onDone={onDone}>
      <strong>Copy the signing secret of {url} now. You won&apos;t see it again.</strong> Your receiver verifies every delivery with it (the{" "}
      <code>webhook-signature</code> header, Standard Webhooks).
      {rotated ? " The previous secret keeps signing too for the next 24 hours, so you can switch your receiver over without missing a delivery." : null}
    </OneTimeSecret>
  );
}
