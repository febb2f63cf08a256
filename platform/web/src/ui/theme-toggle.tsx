import { setTheme, THEME_CHOICES, useTheme, type ThemeChoice } from "./theme";

const LABELS: Record<ThemeChoice, string> = { system: "System", light: "Light", dark: "Dark" };
const ICONS: Record<ThemeChoice, string> = {
  // Half-filled circle, sun, moon: drawn, so they show without an emoji font.
  system: "M12 3a9 9 0 1 0 0 18V3Zm0-1a10 10 0 1 1 0 20 10 10 0 0 1 0-20Z",
  light: "M12 7a5 5 0 1 1 0 10 5 5 0 0 1 0-10Zm-1-6h2v4h-2V1Zm0 18h2v4h-2v-4ZM1 11h4v2H1v-2Zm18 0h4v2h-4v-2Z",
  dark: "M14.5 2.5A9.5 9.5 0 1 0 21.5 15 7.5 7.5 0 0 1 14.5 2.5Z",
};

/** Cycles system → light → dark; the button says which one is in force and what a press does. */
export function ThemeToggle() {
  const theme = useTheme();
  const next = THEME_CHOICES[(THEME_CHOICES.indexOf(theme) + 1) % THEME_CHOICES.length] ?? "system";
  return (
    <button
      type="button"
      className="button ghost small theme-toggle"
      onClick={() => setTheme(next)}
      aria-label={`Theme: ${LABELS[theme]}. Switch to ${LABELS[next]}`}
      title={`Theme: ${LABELS[theme]} (switch to ${LABELS[next]})`}
      data-theme-choice={theme}
    >
      <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" focusable="false">
        <path d={ICONS[theme]} fill="currentColor" fillRule="evenodd" />
      </svg>
      <span className="theme-toggle-label">{LABELS[theme]}</span>
    </button>
  );
}
