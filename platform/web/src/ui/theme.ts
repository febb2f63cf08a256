import { useSyncExternalStore } from "react";

/** "system" follows the OS (prefers-color-scheme); the others hold whatever the OS says. */
export type ThemeChoice = "system" | "light" | "dark";
export const THEME_CHOICES: readonly ThemeChoice[] = ["system", "light", "dark"];

/** This browser's choice, kept across visits and sign-ins (not an account setting: devices differ). */
export const THEME_STORAGE_KEY = "workforce.theme";

const listeners = new Set<() => void>();

function stored(): ThemeChoice {
  try {
    const value = window.localStorage.getItem(THEME_STORAGE_KEY);
    return value === "light" || value === "dark" ? value : "system";
  } catch {
    // Storage refused (privacy mode): the OS decides.
    return "system";
  }
}

let current: ThemeChoice = "system";

/** Puts the choice on <html>; styles.css turns `data-theme` into the colour scheme. */
function apply(choice: ThemeChoice): void {
  if (choice === "system") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = choice;
}

/** Applies the stored choice; called once before the first render, so the page never flashes the other theme. */
export function applyStoredTheme(): void {
  current = stored();
  apply(current);
}

export function setTheme(choice: ThemeChoice): void {
  current = choice;
  try {
    if (choice === "system") window.localStorage.removeItem(THEME_STORAGE_KEY);
    else window.localStorage.setItem(THEME_STORAGE_KEY, choice);
  } catch {
    // Not remembered, but applied for this visit.
  }
  apply(choice);
  for (const listener of listeners) listener();
}

export function useTheme(): ThemeChoice {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => current,
  );
}
