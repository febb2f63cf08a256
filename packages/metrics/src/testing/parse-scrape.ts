import { createRequire } from "node:module";

/** parse-prometheus-text-format 1.1.1's output (it ships no types). */
interface ParsedFamily {
  name: string;
  help: string;
  type: "COUNTER" | "GAUGE" | "HISTOGRAM" | "SUMMARY" | "UNTYPED";
  metrics: { labels?: Record<string, string>; value?: string }[];
}

const require = createRequire(import.meta.url);
const parsePrometheusTextFormat = require("parse-prometheus-text-format") as (text: string) => ParsedFamily[];

/** One series of a scrape: its labels and value (histograms and summaries: their parts, flattened). */
export interface ScrapedSample {
  labels: Record<string, string>;
  value: number;
}

/** A scrape parsed by a real Prometheus text-format parser, by metric family. */
export interface Scrape {
  /** Every family name in the scrape (for histograms, the base name, e.g. `x_seconds`). */
  names(): string[];
  /** Families' type (`COUNTER`, `GAUGE`, `HISTOGRAM`, …), undefined for an absent name. */
  type(name: string): string | undefined;
  /** The samples of a counter or gauge whose labels include `where`. */
  samples(name: string, where?: Record<string, string>): ScrapedSample[];
  /** Sum of the counter or gauge's samples matching `where` (0 when there are none). */
  sum(name: string, where?: Record<string, string>): number;
  /** A histogram's total count over the series matching `where`. */
  histogramCount(name: string, where?: Record<string, string>): number;
}

const matches = (labels: Record<string, string>, where: Record<string, string>) => Object.entries(where).every(([key, value]) => labels[key] === value);

/**
 * The `_count` series of a histogram family as a counter family. parse-prometheus-text-format
 * flattens histograms with labels into one series (their labels are lost), so each histogram's
 * count lines are handed to the same parser again, declared as the counter they are.
 */
function histogramCounts(text: string, name: string): ParsedSample[] {
  const prefix = `${name}_count`;
  const lines = text.split("\n").filter((line) => line.startsWith(`${prefix}{`) || line.startsWith(`${prefix} `));
  const [family] = parsePrometheusTextFormat(`# TYPE ${prefix} counter\n${lines.join("\n")}\n`);
  return (family?.metrics ?? []).map((metric) => ({ labels: metric.labels ?? {}, value: Number(metric.value) }));
}

type ParsedSample = ScrapedSample;

/** Parses the text of a `/metrics` answer; throws on text a Prometheus server would refuse to read. */
export function parseScrape(text: string): Scrape {
  const families = parsePrometheusTextFormat(text);
  const byName = new Map(families.map((family) => [family.name, family]));
  const samples = (name: string, where: Record<string, string> = {}): ScrapedSample[] => {
    const family = byName.get(name);
    if (!family || family.type === "HISTOGRAM" || family.type === "SUMMARY") return [];
    return family.metrics
      .map((metric) => ({ labels: metric.labels ?? {}, value: Number(metric.value) }))
      .filter((sample) => matches(sample.labels, where));
  };
  return {
    names: () => [...byName.keys()],
    type: (name) => byName.get(name)?.type,
    samples,
    sum: (name, where) => samples(name, where).reduce((total, sample) => total + sample.value, 0),
    histogramCount(name, where = {}) {
      if (byName.get(name)?.type !== "HISTOGRAM") return 0;
      return histogramCounts(text, name)
        .filter((sample) => matches(sample.labels, where))
        .reduce((total, sample) => total + sample.value, 0);
    },
  };
}
