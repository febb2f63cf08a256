import { ErasureReceipt } from "@workforce/protocol";

/*
 * The receipt of an organisation just deleted outlives its screens: once it is gone the app
 * switches to another organisation (or none), so the receipt waits in this tab's session storage
 * for the screen at /erased, which also survives a reload.
 */
const KEY = "workforce.erasure-receipt";

export function keepReceipt(receipt: ErasureReceipt): void {
  try {
    window.sessionStorage.setItem(KEY, JSON.stringify(receipt));
  } catch {
    // Storage refused (private mode, quota): the screen then says the receipt is not available.
  }
}

export function readReceipt(): ErasureReceipt | undefined {
  try {
    const raw = window.sessionStorage.getItem(KEY);
    if (!raw) return undefined;
    const parsed = ErasureReceipt.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
