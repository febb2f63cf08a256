/**
 * Named prepared statements for the embedded database (decision 054). Kysely sends every query as
 * an unnamed statement, which Postgres parses, analyses and plans anew each time; in PGlite's
 * WebAssembly that is most of a short statement's cost (the stream-lease statement: ~0.8 ms
 * unnamed, ~0.3 ms named). A connection given to `prepareStatements` sends each parameterised
 * query under a name derived from its text, so its connection parses and plans it once and later
 * binds and executes it; Postgres re-plans a cached statement by itself when the role it runs
 * under (row-level security) or a table it reads changes.
 *
 * Only for the embedded database: one platform process is its only client and migrates it before
 * any of these connections opens. On a shared Postgres server, another platform's migration during
 * a rolling upgrade could change a table under a cached `select *` ("cached plan must not change
 * result type"), and a transaction-mode pooler (PgBouncer, Supavisor) does not keep a session's
 * statements; there, queries stay unnamed.
 */
import type pg from "pg";

/** Distinct statement texts named per process; past it, new texts stay unnamed (bounded memory on both sides). */
export const MAX_NAMED_STATEMENTS = 300;

/** Statement names by text, shared by the process's connections (each prepares a name once, on first use). */
export class StatementNames {
  readonly #names = new Map<string, string>();

  constructor(private readonly max = MAX_NAMED_STATEMENTS) {}

  /** The name for `text`, or undefined once `max` texts are named and this is not one of them. */
  nameOf(text: string): string | undefined {
    let name = this.#names.get(text);
    if (name === undefined && this.#names.size < this.max) {
      name = `wf_${this.#names.size}`;
      this.#names.set(text, name);
    }
    return name;
  }

  get size(): number {
    return this.#names.size;
  }
}

/**
 * Makes `client` send parameterised queries as named statements. Queries without parameters
 * (`begin`, `commit`, `set role …`, several statements in one string) keep the simple protocol,
 * and cursors and query objects pass through untouched.
 */
export function prepareStatements(client: pg.ClientBase, names: StatementNames): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as { query: unknown }).query = (...args: unknown[]) => {
    const [text, values] = args;
    if (args.length === 2 && typeof text === "string" && Array.isArray(values) && values.length > 0) {
      const name = names.nameOf(text);
      if (name !== undefined) return query({ name, text, values });
    }
    return query(...args);
  };
}
