import type { Migration, MigrationProvider } from "kysely";
import { initial } from "./001-initial";

/** Every migration, in order. Names sort lexically, so keep the numeric prefix. */
const migrations: Record<string, Migration> = {
  "001-initial": initial,
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
