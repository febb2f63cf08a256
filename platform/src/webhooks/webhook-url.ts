import { lookup } from "node:dns/promises";
import { AppError } from "@workforce/protocol";
import { assertPublicUrl, classifyAddress, compilePolicy, isIpLiteral, type OutboundPolicy, type Resolver } from "@workforce/net-guard";

/**
 * Checks an endpoint URL when it is registered or changed, so the mistake shows on the form:
 * the SSRF guard's verdict first (no private, loopback or link-local address unless the operator
 * allows it: 422 `outbound_blocked`), then https. Plain http is accepted only towards a private
 * address the operator opened (a receiver on a laptop or in a test), never across the internet,
 * where the events would travel in the clear. Every delivery is checked again where it connects.
 */
export function createWebhookUrlCheck(policy: OutboundPolicy, resolve: Resolver | undefined) {
  const compiled = compilePolicy(policy);

  /** Whether every address of the host is private and opened by the operator. */
  async function privateAndAllowed(url: URL): Promise<boolean> {
    if (policy.allowPrivateNetwork) return true;
    const host = url.hostname.replace(/^\[|\]$/g, "");
    const port = Number(url.port) || 80;
    let addresses: string[];
    try {
      addresses = isIpLiteral(host) ? [host] : (await (resolve ?? defaultResolve)(host)).map((answer) => answer.address);
    } catch {
      return false;
    }
    return addresses.length > 0 && addresses.every((address) => !classifyAddress(address).public && compiled.allows(host, port, address));
  }

  return async function assertWebhookUrl(url: string): Promise<void> {
    await assertPublicUrl(url, policy, resolve ? { resolve } : {});
    const parsed = new URL(url);
    if (parsed.protocol === "http:" && !(await privateAndAllowed(parsed))) {
      throw new AppError(
        "webhook_url_not_https",
        `url: webhooks are sent over https:// only (events would otherwise cross the network in the clear); plain http:// is accepted only for a private address the operator allows (WORKFORCE_OUTBOUND_ALLOW_HOSTS or WORKFORCE_OUTBOUND_ALLOW_PRIVATE), for development`,
      );
    }
  };
}

const defaultResolve: Resolver = async (hostname) => {
  const answers = await lookup(hostname, { all: true, verbatim: true });
  return answers.map((answer) => ({ address: answer.address, family: answer.family === 6 ? 6 : 4 }));
};
