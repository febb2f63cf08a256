import type { Migration, MigrationProvider } from "kysely";
import { initial } from "./001-initial";
import { tenancyAndRls } from "./002-tenancy-and-rls";
import { clusterStatsBudgetsAudit } from "./003-cluster-stats-budgets-audit";
import { forcedRlsAndSystemRole, PLATFORM_TABLES as TABLES_UNTIL_004 } from "./004-forced-rls-and-system-role";
import { SESSION_OWNERSHIP_TABLES, sessionOwnership } from "./005-session-ownership";

/** Every migration, in order. Names sort lexically, so keep the numeric prefix. */
const migrations: Record<string, Migration> = {
  "001-initial": initial,
  "002-tenancy-and-rls": tenancyAndRls,
  "003-cluster-stats-budgets-audit": clusterStatsBudgetsAudit,
  "004-forced-rls-and-system-role": forcedRlsAndSystemRole,
  "005-session-ownership": sessionOwnership,
};

/** Every table of the platform after all migrations; each must FORCE row-level security (a test compares the schema with this). */
export const PLATFORM_TABLES = [...TABLES_UNTIL_004, ...SESSION_OWNERSHIP_TABLES] as const;

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
