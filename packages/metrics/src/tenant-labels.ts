/** The label value of every tenant past the cap, and of all tenants when tenant labels are off. */
export const OTHER_TENANTS = "other";
/** How many tenants get a label of their own (METRICS_TENANT_LABELS): a series per tenant per metric is the cost. */
export const DEFAULT_TENANT_LABEL_CAP = 50;

/**
 * Bounded tenant labels for per-tenant series (opt-in, METRICS_TENANT_LABELS=1). The first
 * `cap` tenants seen since start keep their id as label for good (a series must not change its
 * name half-way); every later tenant counts under "other". With labels off, everything is "other"
 * and the label is not exposed at all (see `labelNames`).
 */
export class TenantLabels {
  private readonly named = new Set<string>();

  constructor(
    readonly enabled: boolean,
    private readonly cap = DEFAULT_TENANT_LABEL_CAP,
  ) {}

  /** The label names to add to a per-tenant metric: `tenant` only when opted in. */
  labelNames(): ["tenant"] | [] {
    return this.enabled ? ["tenant"] : [];
  }

  /** The labels for a tenant's series: `{ tenant }` when opted in, else none. */
  labels(tenantId: string): { tenant: string } | Record<string, never> {
    if (!this.enabled) return {};
    if (this.named.has(tenantId)) return { tenant: tenantId };
    if (this.named.size < this.cap) {
      this.named.add(tenantId);
      return { tenant: tenantId };
    }
    return { tenant: OTHER_TENANTS };
  }
}
