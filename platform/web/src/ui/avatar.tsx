import { useMemo } from "react";

const drawable = new Map<string, boolean>();

/**
 * Whether this browser draws `emoji` as a colour glyph: without an emoji font it draws an empty box
 * (tofu) in the text colour, so a canvas with no coloured pixel means "show initials instead".
 */
export function canDrawEmoji(emoji: string): boolean {
  const known = drawable.get(emoji);
  if (known !== undefined) return known;
  let answer = false;
  const context = document.createElement("canvas").getContext("2d", { willReadFrequently: true });
  if (context) {
    context.canvas.width = 32;
    context.canvas.height = 32;
    context.textBaseline = "top";
    context.font = "24px sans-serif";
    context.fillStyle = "#000";
    context.fillText(emoji, 2, 2);
    const pixels = context.getImageData(0, 0, 32, 32).data;
    for (let index = 0; index < pixels.length && !answer; index += 4) {
      const [red, green, blue, alpha] = [pixels[index], pixels[index + 1], pixels[index + 2], pixels[index + 3]];
      answer = alpha !== 0 && (red !== green || green !== blue);
    }
  }
  drawable.set(emoji, answer);
  return answer;
}

/** "Ada Lovelace" → "AL", "ada" → "A": the first letters of the first two words. */
export function initials(name: string): string {
  const words = name.trim().split(/[\s\-_.]+/u).filter(Boolean);
  const letters = words.slice(0, 2).map((word) => Array.from(word)[0] ?? "");
  return letters.join("").toLocaleUpperCase() || "?";
}

/** An agent's picture: its emoji where this machine can draw it, its initials otherwise (never tofu). */
export function Avatar({ emoji, name, size = "large" }: { emoji: string; name: string; size?: "large" | "small" }) {
  const showEmoji = useMemo(() => emoji.trim() !== "" && canDrawEmoji(emoji.trim()), [emoji]);
  return (
    <span className={`agent-emoji${size === "small" ? " small" : ""}${showEmoji ? "" : " initials"}`} aria-hidden="true" data-testid="avatar" data-avatar={showEmoji ? "emoji" : "initials"}>
      {showEmoji ? emoji : initials(name)}
    </span>
  );
}
