import { openDatabase, type OpenDatabase } from "../db/open-database";
import { adminQuery } from "./test-platform";

/**
 * Two handles on one database, like two platform processes: on Postgres two connection pools on
 * one schema; PGlite has a single session per database, so both share `fallback`.
 */
export async function openTwoProcesses(fallback: OpenDatabase): Promise<{ first: OpenDatabase; second: OpenDatabase; close(): Promise<void> }> {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) return { first: fallback, second: fallback, close: async () => {} };
  const schema = `test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  await adminQuery(databaseUrl, `create schema "${schema}"`);
  const first = await openDatabase({ databaseUrl, schema });
  const second = await openDatabase({ databaseUrl, schema, migrate: false });
  return {
    first,
    second,
    async close() {
      await first.close();
      await second.close();
      await adminQuery(databaseUrl, `drop schema "${schema}" cascade`);
    },
  };
}
