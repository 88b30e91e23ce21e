/**
 * The data of one plot of report.html: computed at render time (html-plots.ts, html-fleet-plots.ts,
 * html-fleet-ops.ts), embedded as JSON, and only drawn by the page's script.
 */
export type AxisKind = 'time' | 'nines' | 'linear' | 'category';
export type ValueUnit = 'us' | 'rate' | 'count' | 'share' | 'days' | 'ms' | 'bytes' | 'joules';

export interface PlotSeries {
  name: string;
  /** [x, y]; x in ms for time axes, in nines for percentile axes. */
  points: Array<[number, number]>;
  /** A reference line (a bound), drawn dashed. */
  reference?: boolean;
}

export interface PlotSpec {
  id: string;
  section: 'generator' | 'throughput' | 'latency' | 'fleet' | 'fleet-ops' | 'years';
  title: string;
  subtitle: string;
  x: {
    kind: AxisKind;
    unit: ValueUnit | 'percentile';
    label: string;
    /** Fixed domain ends (time plots span the whole run, so they line up); else the data's. */
    min?: number;
    max?: number;
    /** On a nines axis, where the curve's 100% point (the maximum) sits. */
    maxAt?: number;
    /** On a category axis, the category names: a point's x is an index into them. */
    categories?: string[];
  };
  y: { unit: ValueUnit; label: string };
  /**
   * How series are drawn: lines (the default); `bars`, one horizontal bar per category and series
   * (x.kind 'category'); `histogram`, vertical bars `binWidth` wide centred on each point's x.
   */
  mark?: 'line' | 'bars' | 'histogram';
  binWidth?: number;
  /** Vertical dashed lines at x with a short label (time to 50%, p99 ...), coloured like `series`. */
  markers?: Array<{ x: number; label: string; series?: string }>;
  /**
   * Run-time plots: what happened when (summary `events`): outages as shaded bands from x to
   * `to`, campaign starts, steps, aborts, config pushes and commands as labelled lines.
   */
  phases?: Array<{ x: number; to?: number; kind: string; label: string }>;
  /** Fill under the first series (throughput-like plots). */
  area?: boolean;
  series: PlotSeries[];
}
