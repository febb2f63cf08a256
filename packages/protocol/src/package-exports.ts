/**
 * A package's named exports from a dynamic `import()`, the same wherever the code runs. Node and
 * tsx put a CommonJS package's exports on the namespace; in the services' esbuild bundles the
 * same import hands them over as `default` only (so redis's `createClient` was undefined in
 * `platform/dist` and defined in every test run from source). `name` is an export
 * the caller uses; a package that has it in neither place is a build fault, said as such.
 */
export function namedExports<T extends object>(loaded: T, name: keyof T & string): T {
  if (name in loaded) return loaded;
  const inner = (loaded as { default?: unknown }).default;
  if (inner !== null && (typeof inner === "object" || typeof inner === "function") && name in inner) return inner as T;
  throw new TypeError(`the dynamically imported package has no export "${name}", neither named nor on its default export`);
}
