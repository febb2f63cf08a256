import type { ModelInfo } from "@workforce/protocol";
import { useSyncExternalStore } from "react";

/** The model replies come from, as last reported by `/api/me` or a run's `run-start`. */
export interface ModelStore {
  get: () => ModelInfo | undefined;
  set: (model: ModelInfo | undefined) => void;
  subscribe: (listener: () => void) => () => void;
}

export function createModelStore(): ModelStore {
  let model: ModelInfo | undefined;
  const listeners = new Set<() => void>();
  return {
    get: () => model,
    set(next) {
      if (next?.offline === model?.offline && next?.id === model?.id && next?.provider === model?.provider) return;
      model = next;
      for (const listener of listeners) listener();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export function useModel(store: ModelStore): ModelInfo | undefined {
  return useSyncExternalStore(store.subscribe, store.get);
}
