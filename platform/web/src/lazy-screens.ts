import { lazy } from "react";

/*
 * The signed-in screens, each fetched when first shown: the first page (sign-in, or the agents)
 * loads only its own code, which keeps the initial JavaScript under its budget (bundle-size.test.ts).
 * Add a new screen here rather than importing it into app.tsx.
 */
export const AccountScreen = lazy(async () => ({ default: (await import("./account/account-screen")).AccountScreen }));
export const AgentsScreen = lazy(async () => ({ default: (await import("./agents/agents-screen")).AgentsScreen }));
export const ApprovalsScreen = lazy(async () => ({ default: (await import("./approvals/approvals-screen")).ApprovalsScreen }));
export const ChatScreen = lazy(async () => ({ default: (await import("./chat/chat-screen")).ChatScreen }));
export const IntegrationsScreen = lazy(async () => ({ default: (await import("./integrations/integrations-screen")).IntegrationsScreen }));
export const KeysScreen = lazy(async () => ({ default: (await import("./keys/keys-screen")).KeysScreen }));
export const OperatorScreen = lazy(async () => ({ default: (await import("./operator/operator-screen")).OperatorScreen }));
export const TeamScreen = lazy(async () => ({ default: (await import("./team/team-screen")).TeamScreen }));
export const UsageScreen = lazy(async () => ({ default: (await import("./usage/usage-screen")).UsageScreen }));
export const WebhooksScreen = lazy(async () => ({ default: (await import("./webhooks/webhooks-screen")).WebhooksScreen }));
export const WorkScreen = lazy(async () => ({ default: (await import("./work/work-screen")).WorkScreen }));
export const AuditScreen = lazy(async () => ({ default: (await import("./audit/audit-screen")).AuditScreen }));
export const BudgetScreen = lazy(async () => ({ default: (await import("./budget/budget-screen")).BudgetScreen }));
export const DataScreen = lazy(async () => ({ default: (await import("./data/data-screen")).DataScreen }));
export const ErasedScreen = lazy(async () => ({ default: (await import("./data/erased-screen")).ErasedScreen }));
export const SearchScreen = lazy(async () => ({ default: (await import("./search/search-screen")).SearchScreen }));
