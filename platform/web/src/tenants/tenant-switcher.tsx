import { useId, useSyncExternalStore } from "react";
import { navigate } from "../router";
import { useServices } from "../services";

/** The organisation `<select>` (label "Organisation"); just the name when there is only one. */
export function TenantSwitcher() {
  const { tenants } = useServices();
  const state = useSyncExternalStore(tenants.subscribe, tenants.getState);
  const id = useId();
  if (state.me.status !== "ready") return null;
  const list = state.me.me.tenants;
  if (list.length <= 1) {
    return (
      <span className="tenant-name small" title={list[0]?.name}>
        {list[0]?.name}
        {list[0]?.suspended ? " (suspended)" : ""}
      </span>
    );
  }
  return (
    <div className="tenant-switcher">
      <label htmlFor={id} className="visually-hidden">
        Organisation
      </label>
      <select
        id={id}
        value={state.tenantId}
        onChange={(event) => {
          tenants.select(event.target.value);
          // Another organisation has other agents: a chat URL from the old one would not exist.
          if (window.location.pathname.startsWith("/agents/")) navigate("/");
        }}
      >
        {list.map((tenant) => (
          <option key={tenant.id} value={tenant.id}>
            {tenant.name} ({tenant.role}){tenant.suspended ? " (suspended)" : ""}
          </option>
        ))}
      </select>
    </div>
  );
}
