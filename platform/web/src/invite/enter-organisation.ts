import { navigate } from "../router";
import type { Services } from "../services";

/** After joining: that organisation is selected, the app opens on its agents, and says so. */
export function enterOrganisation(services: Pick<Services, "tenants" | "notices">, tenant: { id: string; name: string }, role: string): void {
  services.tenants.select(tenant.id);
  navigate("/", { replace: true });
  services.notices.show(`You joined ${tenant.name} as ${role === "admin" || role === "owner" ? "an" : "a"} ${role}.`);
}
