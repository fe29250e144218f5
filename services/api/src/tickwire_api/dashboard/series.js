// The dashboard's pure computations: moving averages, anomaly prices, scales, axis ticks, time
// ranges and number formats. Plain data in, plain data out: no DOM, no fetch, so tests call them.

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

// Services beat every 5 s; six missed beats in a row is no longer a late one.
export const SERVICE_ALIVE_S = 30;

/** "5m" -> 300000; null for anything that is not a whole number of s, m, h or d. */
export function intervalMs(interval) {
  const match = /^([1-9][0-9]*)([smhd])$/.exec(interval);
  return match ? Number(match[1]) * UNIT_MS[match[2]] : null;
}

/**
 * Simple moving averages of `values` over `window` points: element i is the mean of
 * values[i .. i + window - 1], so the first average belongs to the window-th value and there are
 * values.length - window + 1 of them (none when there are fewer values than the window). Each
 * window is summed afresh: a running sum would carry rounding error along the whole series.
 */
export function sma(values, window) {
  if (!Number.isInteger(window) || window < 1) {
    throw new RangeError(`window must be a positive integer, got ${window}`);
  }
  const out = [];
  for (let end = window; end <= values.length; end += 1) {
    let sum = 0;
    for (let i = end - window; i < end; i += 1) sum += values[i];
    out.push(sum / window);
  }
  return out;
}

/**
 * One bar per start time: the API keeps trade bars and mid bars of one provider apart, and an
 * instrument that starts trading has both in the bucket of its first trade. Trades win.
 * Bars come oldest first and stay so.
 */
export function oneBarPerBucket(bars) {
  const byStart = new Map();
  for (const bar of bars) {
    const held = byStart.get(bar.start_ts);
    if (held === undefined || (held.source !== "trade" && bar.source === "trade")) {
      byStart.set(bar.start_ts, bar);
    }
  }
  return [...byStart.values()];
}

/**
 * The price to draw an anomaly at: the price it judged, where its record says which. A level
 * z-score carries the window's mean and standard deviation, so the price is mean + z * stddev. A
 * return z-score carries the reference mid and the volatility of returns in price units (the
 * reference times the volatility of log returns), so the price is reference * exp(z * vol / ref).
 * Other rules carry no price: the close of the bar that holds the anomaly's time, else of the last
 * bar before it, else the first bar's open. null when there are no bars to place it against.
 */
export function anomalyPrice(anomaly, bars, barMs) {
  const { value, window_mean: mean, window_stddev: stddev } = anomaly;
  if (Number.isFinite(mean) && Number.isFinite(stddev)) {
    if (anomaly.rule === "zscore") return mean + value * stddev;
    if (anomaly.rule === "return_zscore" && mean > 0) return mean * Math.exp((value * stddev) / mean);
  }
  if (bars.length === 0) return null;
  const at = Date.parse(anomaly.ts);
  let before = null;
  for (const bar of bars) {
    const start = Date.parse(bar.start_ts);
    if (start > at) break;
    before = bar;
    if (at < start + barMs) return bar.close;
  }
  return before === null ? bars[0].open : before.close;
}

/** [start, end) of the last `rangeMs`, whole buckets of `barMs`, the current one included. */
export function rangeEndingAt(nowMs, rangeMs, barMs) {
  const end = Math.floor(nowMs / barMs) * barMs + barMs;
  return { start: end - rangeMs, end };
}

/** A function mapping [d0, d1] onto [r0, r1] linearly; a zero-width domain maps to r0. */
export function linearScale([d0, d1], [r0, r1]) {
  const span = d1 - d0;
  return (x) => (span === 0 ? r0 : r0 + ((x - d0) / span) * (r1 - r0));
}

/** The smallest and largest of `numbers`, padded by `pad` of the span (or of the value). */
export function paddedExtent(numbers, pad) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of numbers) {
    if (Number.isFinite(x)) {
      lo = Math.min(lo, x);
      hi = Math.max(hi, x);
    }
  }
  if (lo === Infinity) return [0, 1];
  const margin = (hi - lo || Math.abs(hi) || 1) * pad;
  return [lo - margin, hi + margin];
}

/** About `count` round values (1, 2 or 5 times a power of ten apart) within [lo, hi]. */
export function niceTicks(lo, hi, count) {
  if (!(hi > lo) || count < 1) return [];
  const rough = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough);
  const ticks = [];
  for (let i = Math.ceil(lo / step); i * step <= hi; i += 1) ticks.push(i * step);
  return ticks;
}

// Days and weeks for the daily charts of backfilled history, which span months to years.
const TIME_STEPS_MS = [1, 5, 15, 30, 60, 300, 900, 1_800, 3_600, 10_800, 21_600, 43_200, 86_400,
  2 * 86_400, 7 * 86_400, 14 * 86_400, 28 * 86_400, 91 * 86_400, 182 * 86_400, 364 * 86_400]
  .map((s) => s * 1_000);

/** Times within [startMs, endMs] on a round step, about `count` of them, in UTC. */
export function timeTicks(startMs, endMs, count) {
  if (!(endMs > startMs) || count < 1) return [];
  const rough = (endMs - startMs) / count;
  const step = TIME_STEPS_MS.find((s) => s >= rough) ?? TIME_STEPS_MS[TIME_STEPS_MS.length - 1];
  const ticks = [];
  for (let t = Math.ceil(startMs / step) * step; t <= endMs; t += step) ticks.push(t);
  return ticks;
}

/**
 * The short volume ratio per day from /v1/short-volume rows, oldest first: {ts (ms of the day's
 * 00:00 UTC, where the day's bar starts), ratio}. Days without a ratio (no volume) are left out.
 */
export function shortVolumeRatios(rows) {
  return rows
    .filter((row) => Number.isFinite(row.short_volume_ratio))
    .map((row) => ({ ts: Date.parse(`${row.trade_date}T00:00:00Z`), ratio: row.short_volume_ratio }))
    .sort((a, b) => a.ts - b.ts);
}

/** "2024-05-31", the UTC day of `ms`. */
export function formatDay(ms) {
  return new Date(ms).toISOString().slice(0, 10);
}

/** 0.4321 -> "43.2%". */
export function formatPercent(share) {
  return Number.isFinite(share) ? `${(share * 100).toFixed(1)}%` : "-";
}

/** "14:05" in UTC, with the date in front when `withDate`, seconds when `withSeconds`. */
export function formatTime(ms, { withDate = false, withSeconds = false } = {}) {
  const iso = new Date(ms).toISOString();
  const clock = withSeconds ? iso.slice(11, 19) : iso.slice(11, 16);
  return withDate ? `${iso.slice(5, 10)} ${clock}` : clock;
}

/** A price with as many decimals as its size calls for (6 significant digits at least). */
export function formatPrice(price) {
  if (!Number.isFinite(price)) return "-";
  const magnitude = Math.floor(Math.log10(Math.abs(price) || 1));
  const decimals = Math.min(8, Math.max(0, 5 - magnitude));
  return price.toFixed(decimals);
}

/** 12,345,678 -> "12.3M"; small numbers as they are. */
export function formatCount(n) {
  if (n === null || n === undefined) return "-";
  const abs = Math.abs(n);
  if (abs >= 1e9) return `${(n / 1e9).toFixed(1)}G`;
  if (abs >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (abs >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n * 1000) / 1000);
}

/** Seconds as "850 ms", "12.3 s", "4 min", "3.2 h" or "2.0 d"; "-" when unknown. */
export function formatAge(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "-";
  const abs = Math.abs(seconds);
  if (abs < 1) return `${Math.round(seconds * 1000)} ms`;
  if (abs < 60) return `${seconds.toFixed(1)} s`;
  if (abs < 3_600) return `${Math.round(seconds / 60)} min`;
  if (abs < 86_400) return `${(seconds / 3_600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} d`;
}

/** Milliseconds between two RFC 3339 times, or null when either is missing. */
export function millisBetween(earlier, later) {
  if (!earlier || !later) return null;
  return Date.parse(later) - Date.parse(earlier);
}

/** Whether a service instance's heartbeat is recent enough to call it alive. */
export function serviceAlive(service, aliveS = SERVICE_ALIVE_S) {
  // The API judges with its own TICKWIRE_HEARTBEAT_TIMEOUT_S; the age is the fallback.
  if (typeof service.alive === "boolean") return service.alive;
  return Number.isFinite(service.heartbeat_age_s) && service.heartbeat_age_s <= aliveS;
}
