import { slugify } from "@workforce/protocol";

/** Emoji and other symbols name nothing: "🤖 Ada" is Ada, and a name of emoji only falls back to "agent". */
const SYMBOL = /\p{Extended_Pictographic}|\p{S}/u;
/** Scripts whose characters are whole syllables; any-ascii runs them together ("YanJiuYuan"), so they are spaced. */
const SYLLABIC = /\p{Script=Han}|\p{Script=Hangul}/u;

/**
 * A readable slug for a display name in any script: transliterated to ASCII first ("Исследователь"
 * → "issledovatel", "研究员" → "yan-jiu-yuan", "Ἀθηνᾶ" → "athina"), then `slugify`. "agent" when
 * nothing is left. The transliteration tables (~550 KB) load on the first call, not at start-up.
 */
export async function slugFromName(name: string): Promise<string> {
  const { default: anyAscii } = await import("any-ascii");
  let ascii = "";
  for (const character of name.normalize("NFC")) {
    if (SYMBOL.test(character)) ascii += " ";
    else if (character <= "\u007f") ascii += character;
    else if (SYLLABIC.test(character)) ascii += ` ${anyAscii(character)} `;
    else ascii += anyAscii(character);
  }
  return slugify(ascii);
}

/** `base`, or `base-2`, `base-3`, … : the first that `taken` does not hold, at most 64 characters. */
export function firstFreeSlug(base: string, taken: ReadonlySet<string>): string {
  if (!taken.has(base)) return base;
  for (let suffix = 2; ; suffix += 1) {
    const tail = `-${suffix}`;
    const candidate = `${base.slice(0, 64 - tail.length).replace(/-+$/, "")}${tail}`;
    if (!taken.has(candidate)) return candidate;
  }
}
