import type { ModelInfo } from "@workforce/protocol";
import { createContext, useContext } from "react";
import { toErrorDetail } from "./api/api-error";
import { createApiClient, type ApiClient } from "./api/client";
import { createApprovalsLive, type ApprovalsLive } from "./approvals/approvals-live";
import { createAuthStore, type AuthStore } from "./auth/auth-store";
import { createChatStore, type ChatStore } from "./chat/chat-store";
import type { WebConfig } from "./config";
import { createModelStore, type ModelStore } from "./model-store";
import { navigate } from "./router";
import { createMembershipRecheck } from "./tenants/recheck-memberships";
import { createTenantStore, type TenantStore } from "./tenants/tenant-store";
import { createNoticeStore, type NoticeStore } from "./ui/notice-store";

/** Everything the screens need, built once at start-up and handed down through context. */
export interface Services {
  config: WebConfig;
  auth: AuthStore;
  tenants: TenantStore;
  api: ApiClient;
  chat: ChatStore;
  model: ModelStore;
  notices: NoticeStore;
  /** The selected organisation's approvals, live (issue 15). */
  approvals: ApprovalsLive;
}

export function createServices(config: WebConfig): Services {
  const auth = createAuthStore(config.supabaseUrl, config.supabaseAnonKey);
  const tenants = createTenantStore();
  const model = createModelStore();
  const notices = createNoticeStore();
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
    onTenantSuspended: (tenantId, message) => tenants.markSuspended(tenantId, message),
    onSessionEnded: () => void auth.client.auth.signOut({ scope: "local" }),
    onGatewayUnavailable: (error) => tenants.markGatewayDown(toErrorDetail(error)),
  });
  const approvals = createApprovalsLive({ api });
  const chat = createChatStore({ api, tenantId: () => tenants.tenantId(), onModel: (info: ModelInfo) => model.set(info), onDecided: () => approvals.touched() });
  forgetAccountOnUserChange({ auth, tenants, chat, model, notices, approvals });
  return { config, auth, tenants, api, chat, model, notices, approvals };
}

/**
 * Whenever the signed-in user changes (signing out, or a mailed link signing in another account
 * in this browser), nothing of the previous one's workspace may stay on screen: chats, the
 * organisations, the model, a notice meant for them, their approvals.
 */
function forgetAccountOnUserChange(deps: Pick<Services, "auth" | "tenants" | "chat" | "model" | "notices" | "approvals">): void {
  let userId: string | undefined;
  deps.auth.subscribe(() => {
    const state = deps.auth.getState();
    if (state.status === "loading") return;
    const next = state.status === "signed-in" ? state.session.user.id : undefined;
    if (next === userId) return;
    const hadUser = userId !== undefined;
    userId = next;
    if (!hadUser) return;
    deps.chat.reset();
    deps.tenants.reset();
    deps.model.set(undefined);
    deps.notices.clear();
    deps.approvals.reset();
  });
}

export const ServicesContext = createContext<Services | undefined>(undefined);

export function useServices(): Services {
  const services = useContext(ServicesContext);
  if (!services) throw new Error("useServices() needs a <ServicesContext.Provider>");
  return services;
}
