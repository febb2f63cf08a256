import { useEffect, useState } from "react";

/** A module fetched on first use (its own chunk), remembered once loaded; a failed fetch is tried again next time. */
export interface LazyModule<T> {
  load(): Promise<T>;
  /** The module if it has loaded already. */
  current(): T | undefined;
}

export function lazyModule<T>(importer: () => Promise<T>): LazyModule<T> {
  let loading: Promise<T> | undefined;
  let loaded: T | undefined;
  return {
    load: () =>
      (loading ??= importer().then(
        (module) => (loaded = module),
        (error: unknown) => {
          loading = undefined;
          throw error;
        },
      )),
    current: () => loaded,
  };
}

/** The module once it has loaded (at once when it already has); undefined meanwhile, or when it cannot be fetched. */
export function useLazyModule<T>(module: LazyModule<T>): T | undefined {
  const [value, setValue] = useState(() => module.current());
  useEffect(() => {
    if (value !== undefined) return;
    let current = true;
    module.load().then(
      (loaded) => current && setValue(() => loaded),
      () => undefined, // the caller shows its plain fallback
    );
    return () => {
      current = false;
    };
  }, [module, value]);
  return value;
}
