import { useSyncExternalStore } from "react";

/** A one-line piece of good news shown under the top bar ("Your address is confirmed."). */
export interface Notice {
  id: number;
  text: string;
}

/**
 * The app-wide notice, kept outside React: it is set by a flow that ends on another screen (a
 * confirmation link, joining an organisation) and read by the app shell after the navigation.
 */
export interface NoticeStore {
  get: () => Notice | undefined;
  show: (text: string) => void;
  clear: () => void;
  subscribe: (listener: () => void) => () => void;
}

export function createNoticeStore(): NoticeStore {
  let notice: Notice | undefined;
  let nextId = 1;
  const listeners = new Set<() => void>();
  const set = (next: Notice | undefined) => {
    notice = next;
    for (const listener of listeners) listener();
  };
  return {
    get: () => notice,
    show: (text) => set({ id: nextId++, text }),
    clear: () => {
      if (notice) set(undefined);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export function useNotice(store: NoticeStore): Notice | undefined {
  return useSyncExternalStore(store.subscribe, store.get);
}
