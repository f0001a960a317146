/**
 * The collector's own metrics, kept in memory and rendered as Prometheus text.
 * Names are upstream's OpenTelemetry names; counters get Prometheus' `_total` suffix when
 * rendered, and histograms their `_bucket`/`_sum`/`_count` series, exactly as the upstream
 * collector's Prometheus endpoint shows them.
 *
 * @module
 */

/** Label set of one series. */
export type Labels = Readonly<Record<string, string>>;

/** A monotonically increasing count. */
export interface Counter {
  add(value: number, labels: Labels): void;
}

/** A value that goes up and down. */
export interface Gauge {
  set(value: number, labels: Labels): void;
  /** Forgets one series (e.g. when its component shut down). */
  remove(labels: Labels): void;
}

/** A distribution of values over fixed bucket boundaries. */
export interface Histogram {
  record(value: number, labels: Labels): void;
}

/** `service::telemetry::metrics::level`: how much the components report. */
export type MetricsLevel = "none" | "basic" | "normal" | "detailed";

interface Series {
  labels: Labels;
  /** The value of a counter or gauge; the number of values recorded in a histogram. */
  value: number;
  /** Histograms only: values recorded at or below each boundary (not cumulative), then +Inf. */
  buckets?: number[];
  sum?: number;
}

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge" | "histogram";
  readonly boundaries?: readonly number[];
  readonly series: Map<string, Series>;
}

function seriesKey(labels: Labels): string {
  return Object.keys(labels).sort().map((k) => `${k}\u0000${labels[k]}`).join("\u0001");
}

function escapeLabel(v: string): string {
  return v.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll('"', '\\"');
}

/** Holds every metric family of one collector. */
export class MetricsRegistry {
  #families = new Map<string, Family>();

  /** Builds a registry for metrics of `level` (components read it for level-gated metrics). */
  constructor(readonly level: MetricsLevel = "normal") {}

  #family(
    name: string,
    help: string,
    type: Family["type"],
    boundaries?: readonly number[],
  ): Family {
    let f = this.#families.get(name);
    if (f === undefined) {
      f = { name, help, type, boundaries, series: new Map() };
      this.#families.set(name, f);
    } else if (f.type !== type) {
      throw new TypeError(`Metric "${name}" is already registered as a ${f.type}`);
    }
    return f;
  }

  /** Returns the counter called `name`, creating it on first use. */
  counter(name: string, help: string): Counter {
    const f = this.#family(name, help, "counter");
    return {
      add(value: number, labels: Labels): void {
        const key = seriesKey(labels);
        const s = f.series.get(key);
        if (s) s.value += value;
        else f.series.set(key, { labels, value });
      },
    };
  }

  /** Returns the gauge called `name`, creating it on first use. */
  gauge(name: string, help: string): Gauge {
    const f = this.#family(name, help, "gauge");
    return {
      set(value: number, labels: Labels): void {
        const key = seriesKey(labels);
        const s = f.series.get(key);
        if (s) s.value = value;
        else f.series.set(key, { labels, value });
      },
      remove(labels: Labels): void {
        f.series.delete(seriesKey(labels));
      },
    };
  }

  /** Returns the histogram called `name` with these bucket boundaries, creating it. */
  histogram(name: string, help: string, boundaries: readonly number[]): Histogram {
    const f = this.#family(name, help, "histogram", boundaries);
    return {
      record(value: number, labels: Labels): void {
        const key = seriesKey(labels);
        let s = f.series.get(key);
        if (s === undefined) {
          s = { labels, value: 0, buckets: new Array(boundaries.length + 1).fill(0), sum: 0 };
          f.series.set(key, s);
        }
        let i = 0;
        while (i < boundaries.length && value > boundaries[i]!) i++;
        s.buckets![i]!++;
        s.value++;
        s.sum! += value;
      },
    };
  }

  /**
   * Reads one series' current value (counters by their base name, histograms as their count);
   * for tests and health.
   */
  value(name: string, labels: Labels): number | undefined {
    return this.#families.get(name)?.series.get(seriesKey(labels))?.value;
  }

  /** Reads one histogram series: count, sum and cumulative counts per upper bound; for tests. */
  histogramValue(
    name: string,
    labels: Labels,
  ): { count: number; sum: number; buckets: [number, number][] } | undefined {
    const f = this.#families.get(name);
    const s = f?.series.get(seriesKey(labels));
    if (f?.boundaries === undefined || s === undefined) return undefined;
    let cumulative = 0;
    const bounds = [...f.boundaries, Infinity];
    const buckets = bounds.map((le, i): [number, number] => [le, cumulative += s.buckets![i]!]);
    return { count: s.value, sum: s.sum!, buckets };
  }

  /** Renders every family in the Prometheus text exposition format (version 0.0.4). */
  renderPrometheus(extraLabels: Labels = {}): string {
    const out: string[] = [];
    for (const f of [...this.#families.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      // The 0.0.4 text format allows only [a-zA-Z0-9_:] in names: upstream's newer names with
      // dots (`otelcol_processor_filter_logs.filtered`) are escaped to underscores, as
      // Prometheus' client does for scrapes in this format.
      const base = f.name.replace(/[^a-zA-Z0-9_:]/g, "_");
      const name = f.type === "counter" ? `${base}_total` : base;
      out.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`);
      for (const s of f.series.values()) {
        const all = { ...s.labels, ...extraLabels };
        const labelText = (more: Labels = {}): string => {
          const both = { ...all, ...more };
          const text = Object.keys(both).sort()
            .map((k) => `${k}="${escapeLabel(both[k]!)}"`).join(",");
          return text ? `{${text}}` : "";
        };
        if (f.type !== "histogram") {
          out.push(`${name}${labelText()} ${s.value}`);
          continue;
        }
        let cumulative = 0;
        f.boundaries!.forEach((le, i) => {
          cumulative += s.buckets![i]!;
          out.push(`${name}_bucket${labelText({ le: String(le) })} ${cumulative}`);
        });
        out.push(`${name}_bucket${labelText({ le: "+Inf" })} ${s.value}`);
        out.push(`${name}_sum${labelText()} ${s.sum}`, `${name}_count${labelText()} ${s.value}`);
      }
    }
    return out.join("\n") + "\n";
  }
}
