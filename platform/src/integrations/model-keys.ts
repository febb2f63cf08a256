import { assertPublicUrl, type OutboundPolicy } from "@workforce/net-guard";
import { AppError, MODEL_KEY_PROVIDER_LABELS, ModelKeyInput, ModelKeyProvider, type ModelKeyView, type ModelKeysResponse, type RunModelKey } from "@workforce/protocol";
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { operationRoutes } from "../auth/operation-route";
import { audit } from "../db/audit";
import { withTenant, type Database, type TenantTransaction } from "../db/scopes";
import type { TenantSecrets } from "../secrets/tenant-secrets";
import { parseWith, readJson } from "../validation";
import type { RunIntegrationPart } from "./run-integrations";

/** The operator's decisions about organisations' own model keys (platform configuration). */
export interface ModelKeyOptions {
  /** WORKFORCE_PLATFORM_KEY_FALLBACK: a provider the organisation has no key for may use the operator's (default true). */
  platformKeyFallback: boolean;
}

export const DEFAULT_MODEL_KEY_OPTIONS: ModelKeyOptions = { platformKeyFallback: true };

export interface ModelKeysDeps {
  db: Database;
  now: () => Date;
  secrets: TenantSecrets | undefined;
  options: ModelKeyOptions;
  /** Where organisations' URLs may point (WORKFORCE_OUTBOUND_ALLOW_PRIVATE / _ALLOW_HOSTS): public addresses only unless the operator opens more. */
  outbound: OutboundPolicy;
}

const PROVIDERS = ModelKeyProvider.options;
const secretName = (provider: ModelKeyProvider) => `model-key/${provider}`;

function providerOf(value: string): ModelKeyProvider {
  const parsed = ModelKeyProvider.safeParse(value);
  if (!parsed.success) throw new AppError("not_found", `No model key provider "${value}": use ${PROVIDERS.join(" or ")}`);
  return parsed.data;
}

function requireSecrets(secrets: TenantSecrets | undefined): TenantSecrets {
  if (!secrets) throw new AppError("conflict", "This installation keeps no secrets (no master key): its operator sets WORKFORCE_SECRET_KEY first");
  return secrets;
}

/** Every provider's key as members see it: set or not, a hint, the base URL, who set it and when. */
async function readViews(trx: TenantTransaction, tenantId: string, secrets: TenantSecrets | undefined): Promise<ModelKeyView[]> {
  const rows = await trx
    .selectFrom("model_keys")
    .leftJoin("users", "users.id", "model_keys.updated_by")
    .select(["model_keys.provider", "model_keys.base_url", "model_keys.updated_at", "model_keys.updated_by", "users.email"])
    .where("model_keys.tenant_id", "=", tenantId)
    .execute();
  const summaries = secrets ? await secrets.list(trx, tenantId) : [];
  return PROVIDERS.map((provider) => {
    const row = rows.find((candidate) => candidate.provider === provider);
    const summary = summaries.find((candidate) => candidate.name === secretName(provider));
    if (!row || !summary) return { provider, set: false, hint: null, baseUrl: null, updatedAt: null, updatedBy: null };
    return {
      provider,
      set: true,
      hint: summary.hint,
      baseUrl: row.base_url,
      updatedAt: row.updated_at.toISOString(),
      updatedBy: row.updated_by ? { userId: row.updated_by, email: row.email ?? null } : null,
    };
  });
}

/** Checks a key's input for its provider: an OpenAI-compatible endpoint has no default, and a base URL must be public unless the operator allows private ones. */
async function checkedInput(deps: ModelKeysDeps, provider: ModelKeyProvider, input: ModelKeyInput): Promise<ModelKeyInput> {
  if (provider === "openai-compatible" && !input.baseUrl) {
    throw new AppError("validation_failed", "baseUrl: is required for an OpenAI-compatible key (e.g. https://api.openai.com/v1)");
  }
  // Checked again by the gateway at every connection (a name can resolve elsewhere later); this shows the mistake at once.
  if (input.baseUrl) await assertPublicUrl(input.baseUrl, deps.outbound);
  return input;
}

/**
 * `/api/integrations/model-keys` (issue 14, decision 031): an organisation's own Anthropic or
 * OpenAI-compatible key. The key is a tenant secret (write-only, audited by the store); the base
 * URL and who set it are a `model_keys` row beside it, written in the same transaction.
 */
export function modelKeyRoutes(deps: ModelKeysDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const route = operationRoutes(app);
  const policy = () => ({
    platformKeyFallback: deps.options.platformKeyFallback,
    privateBaseUrls: deps.outbound.allowPrivateNetwork || deps.outbound.allowHosts.length > 0,
    available: deps.secrets !== undefined,
  });

  route("model-keys.list", async (c, { tenantId }) => {
    const keys = await withTenant(deps.db, tenantId, (trx) => readViews(trx, tenantId, deps.secrets));
    return c.json({ keys, policy: policy() } satisfies ModelKeysResponse);
  });

  route("model-keys.set", async (c, { tenantId, actor }) => {
    const provider = providerOf(c.req.param("provider"));
    const secrets = requireSecrets(deps.secrets);
    const input = await checkedInput(deps, provider, await readJson(c, ModelKeyInput));
    const key = await withTenant(deps.db, tenantId, async (trx) => {
      const summary = await secrets.put(trx, tenantId, { name: secretName(provider), kind: "model-key", value: input.apiKey, userId: actor.userId, apiKeyId: actor.apiKeyId });
      const values = { base_url: input.baseUrl ?? null, updated_at: deps.now(), updated_by: actor.userId };
      await trx
        .insertInto("model_keys")
        .values({ tenant_id: tenantId, provider, ...values })
        .onConflict((conflict) => conflict.columns(["tenant_id", "provider"]).doUpdateSet(values))
        .execute();
      await audit(trx, { tenantId, actor, action: "model_key.set", target: provider, details: { hint: summary.hint, baseUrl: input.baseUrl ?? null } });
      const views = await readViews(trx, tenantId, secrets);
      return views.find((view) => view.provider === provider);
    });
    return c.json({ key });
  });

  route("model-keys.delete", async (c, { tenantId, actor }) => {
    const provider = providerOf(c.req.param("provider"));
    const secrets = requireSecrets(deps.secrets);
    await withTenant(deps.db, tenantId, async (trx) => {
      const removed = await secrets.remove(trx, tenantId, secretName(provider), actor);
      const row = await trx.deleteFrom("model_keys").where("tenant_id", "=", tenantId).where("provider", "=", provider).executeTakeFirst();
      if (!removed && row.numDeletedRows === 0n) throw new AppError("not_found", `This organisation has no ${MODEL_KEY_PROVIDER_LABELS[provider]} key`);
      await audit(trx, { tenantId, actor, action: "model_key.delete", target: provider });
    });
    return c.body(null, 204);
  });

  return app;
}

/**
 * A run's share (RunIntegrations.modelKeys and platformKeyFallback): the organisation's keys,
 * decrypted for this run only, and whether the operator lends its own for the other providers.
 */
export function modelKeysPart(deps: Pick<ModelKeysDeps, "secrets" | "options" | "outbound">): RunIntegrationPart {
  return {
    async read(trx, tenantId, _agent, { modelKeys: rows }) {
      const fallback = deps.options.platformKeyFallback;
      const keys: Partial<Record<ModelKeyProvider, RunModelKey>> = {};
      const secrets = deps.secrets;
      if (secrets) {
        const summaries = rows.length > 0 ? await secrets.list(trx, tenantId) : [];
        for (const row of rows) {
          const provider = parseWith(ModelKeyProvider, row.provider, "provider");
          const apiKey = await secrets.reveal(trx, tenantId, secretName(provider));
          const summary = summaries.find((candidate) => candidate.name === secretName(provider));
          if (apiKey === undefined || !summary) continue;
          keys[provider] = { apiKey, hint: summary.hint, allowPrivateNetwork: deps.outbound.allowPrivateNetwork, ...(row.base_url ? { baseUrl: row.base_url } : {}) };
        }
      }
      return (draft) => {
        draft.platformKeyFallback = fallback;
        Object.assign(draft.modelKeys, keys);
      };
    },
  };
}
