/**
 * The collector's own metrics, kept in memory and rendered as Prometheus text.
 * Names are upstream's OpenTelemetry names; counters get Prometheus' `_total` suffix when
 * rendered, exactly as the upstream collector's Prometheus endpoint shows them.
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

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge";
  readonly series: Map<string, { labels: Labels; value: number }>;
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

  #family(name: string, help: string, type: Family["type"]): Family {
    let f = this.#families.get(name);
    if (f === undefined) {
      f = { name, help, type, series: new Map() };
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

  /** Reads one series' current value (counters by their base name); for tests and health. */
  value(name: string, labels: Labels): number | undefined {
    return this.#families.get(name)?.series.get(seriesKey(labels))?.value;
  }

  /** Renders every family in the Prometheus text exposition format (version 0.0.4). */
  renderPrometheus(extraLabels: Labels = {}): string {
    const out: string[] = [];
    for (const f of [...this.#families.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      const name = f.type === "counter" ? `${f.name}_total` : f.name;
      out.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`);
      for (const s of f.series.values()) {
        const all = { ...s.labels, ...extraLabels };
        const labelText = Object.keys(all).sort()
          .map((k) => `${k}="${escapeLabel(all[k]!)}"`).join(",");
        out.push(`${name}${labelText ? `{${labelText}}` : ""} ${s.value}`);
      }
    }
    return out.join("\n") + "\n";
  }
}
