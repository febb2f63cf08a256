import type { Migration, MigrationProvider } from "kysely";
import { initial } from "./001-initial";
import { tenancyAndRls } from "./002-tenancy-and-rls";
import { clusterStatsBudgetsAudit } from "./003-cluster-stats-budgets-audit";
import { forcedRlsAndSystemRole } from "./004-forced-rls-and-system-role";
import { sessionOwnership } from "./005-session-ownership";
import { signingKeys } from "./006-signing-keys";
import { rateLimits } from "./007-rate-limits";
import { accountsSessionsOperator } from "./008-accounts-sessions-operator";
import { usageIngest } from "./009-usage-ingest";
import { tenantLimits } from "./010-tenant-limits";
import { streamLeases } from "./011-stream-leases";
import { tenantSecrets } from "./012-tenant-secrets";
import { organisationModelKeys } from "./013-organisation-model-keys";
import { mcpServers } from "./014-mcp-servers";
import { composio } from "./015-composio";
import { jobsAndTenantEvents } from "./016-jobs-and-tenant-events";
import { schedules } from "./017-schedules";
import { agentHeartbeats } from "./018-agent-heartbeats";
import { webhooks } from "./019-webhooks";
import { approvalsAndToolModes } from "./020-approvals-and-tool-modes";
import { sessionSearch } from "./022-session-search";

/** Every migration, in order. Names sort lexically, so keep the numeric prefix. */
const migrations: Record<string, Migration> = {
  "001-initial": initial,
  "002-tenancy-and-rls": tenancyAndRls,
  "003-cluster-stats-budgets-audit": clusterStatsBudgetsAudit,
  "004-forced-rls-and-system-role": forcedRlsAndSystemRole,
  "005-session-ownership": sessionOwnership,
  "006-signing-keys": signingKeys,
  "007-rate-limits": rateLimits,
  "008-accounts-sessions-operator": accountsSessionsOperator,
  "009-usage-ingest": usageIngest,
  "010-tenant-limits": tenantLimits,
  "011-stream-leases": streamLeases,
  "012-tenant-secrets": tenantSecrets,
  "013-organisation-model-keys": organisationModelKeys,
  "014-mcp-servers": mcpServers,
  "015-composio": composio,
  "016-jobs-and-tenant-events": jobsAndTenantEvents,
  "017-schedules": schedules,
  "018-agent-heartbeats": agentHeartbeats,
  "019-webhooks": webhooks,
  "020-approvals-and-tool-modes": approvalsAndToolModes,
  "022-session-search": sessionSearch,
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
