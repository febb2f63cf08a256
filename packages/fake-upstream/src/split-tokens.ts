/**
 * Splits `text` into output "tokens" (the pieces sent as separate stream deltas).
 *
 * With `count` undefined the text is split on word boundaries, each piece carrying its leading
 * whitespace ("Hello", " world"), which is roughly what real tokenizers stream. With a count the
 * text is cut into `min(count, characters)` pieces of near-equal length, never inside a code point.
 * Joining the pieces always gives back `text`; an empty text gives no pieces.
 */
export function splitTokens(text: string, count?: number): string[] {
  if (text === "") return [];
  if (count === undefined) return text.match(/\s*\S+|\s+/g) ?? [text];
  const characters = Array.from(text);
  const pieces = Math.max(1, Math.min(Math.floor(count), characters.length));
  const result: string[] = [];
  for (let index = 0; index < pieces; index += 1) {
    const start = Math.floor((index * characters.length) / pieces);
    const end = Math.floor(((index + 1) * characters.length) / pieces);
    result.push(characters.slice(start, end).join(""));
  }
  return result;
}

/** Splits serialized tool-call arguments into a few pieces, as providers stream `partial_json`. */
export function splitJson(json: string): string[] {
  return splitTokens(json, 3);
}
