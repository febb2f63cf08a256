import type { ModelInfo } from "@workforce/protocol";
import { createContext, useContext } from "react";
import { createApiClient, type ApiClient } from "./api/client";
import { createAuthStore, type AuthStore } from "./auth/auth-store";
import { createChatStore, type ChatStore } from "./chat/chat-store";
import type { WebConfig } from "./config";
import { createModelStore, type ModelStore } from "./model-store";
import { navigate } from "./router";
import { createMembershipRecheck } from "./tenants/recheck-memberships";
import { createTenantStore, type TenantStore } from "./tenants/tenant-store";

/** Everything the screens need, built once at start-up and handed down through context. */
export interface Services {
  config: WebConfig;
  auth: AuthStore;
  tenants: TenantStore;
  api: ApiClient;
  chat: ChatStore;
  model: ModelStore;
}

export function createServices(config: WebConfig): Services {
  const auth = createAuthStore(config.supabaseUrl, config.supabaseAnonKey);
  const tenants = createTenantStore();
  const model = createModelStore();
  const recheck = createMembershipRecheck({
    api: () => api,
    tenants,
    // Another organisation has other agents: a chat URL from the old one would not exist.
    onSwitched: () => {
      if (window.location.pathname.startsWith("/agents/")) navigate("/");
    },
  });
  const api = createApiClient({
    baseUrl: config.apiUrl,
    accessToken: () => auth.accessToken(),
    tenantId: () => tenants.tenantId(),
    onTenantForbidden: recheck,
  });
  const chat = createChatStore({ api, tenantId: () => tenants.tenantId(), onModel: (info: ModelInfo) => model.set(info) });
  return { config, auth, tenants, api, chat, model };
}

export const ServicesContext = createContext<Services | undefined>(undefined);

export function useServices(): Services {
  const services = useContext(ServicesContext);
  if (!services) throw new Error("useServices() needs a <ServicesContext.Provider>");
  return services;
}
