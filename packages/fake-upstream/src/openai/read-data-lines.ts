/** A parsed `data:` line of a chat-completions stream: JSON, or the `[DONE]` sentinel. */
export type DataLine = { done: true } | { done: false; json: unknown };

/** Test helper: reads a whole SSE response and returns its `data:` payloads in order. */
export async function readDataLines(response: Response): Promise<DataLine[]> {
  const text = await response.text();
  return text
    .split("\n\n")
    .filter((frame) => frame.startsWith("data: "))
    .map((frame) => {
      const data = frame.slice("data: ".length);
      return data === "[DONE]" ? { done: true } : { done: false, json: JSON.parse(data) as unknown };
    });
}
