// The price chart in SVG: candlesticks, SMA-20 and SMA-50, anomaly markers, a volume panel, for a
// daily chart of backfilled history the short volume ratio below it, and the axes. Every drawn
// element carries data attributes saying what it stands for.

import {
  anomalyPrice,
  formatCount,
  formatDay,
  formatPercent,
  formatPrice,
  formatTime,
  linearScale,
  niceTicks,
  paddedExtent,
  sma,
  timeTicks,
} from "./series.js";

const SVG = "http://www.w3.org/2000/svg";
export const SMA_WINDOWS = [20, 50];
const MARGIN = { top: 10, right: 80, bottom: 26, left: 10 };
const VOLUME_SHARE = 0.22; // of the plot's height
const RATIO_SHARE = 0.22; // of the plot's height, when the ratio panel is drawn
const PANEL_GAP = 16;
const MARKER_RADIUS = 7;

function el(name, attributes, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  parent.appendChild(node);
  return node;
}

function text(content, attributes, parent) {
  el("text", attributes, parent).textContent = content;
}

function layout(width, height, withRatio) {
  const left = MARGIN.left;
  const right = width - MARGIN.right;
  const plotHeight = height - MARGIN.top - MARGIN.bottom;
  const volumeHeight = Math.round(plotHeight * VOLUME_SHARE);
  const ratioHeight = withRatio ? Math.round(plotHeight * RATIO_SHARE) : 0;
  const below = volumeHeight + PANEL_GAP + (withRatio ? ratioHeight + PANEL_GAP : 0);
  const priceBottom = MARGIN.top + plotHeight - below;
  const volumeTop = priceBottom + PANEL_GAP;
  const volumeBottom = volumeTop + volumeHeight;
  const ratioTop = withRatio ? volumeBottom + PANEL_GAP : volumeBottom;
  return {
    left,
    right,
    priceTop: MARGIN.top,
    priceBottom,
    volumeTop,
    volumeBottom,
    ratioTop,
    bottom: ratioTop + ratioHeight,
  };
}

function drawAxes(layer, box, x, y, priceDomain, start, end, maxVolume) {
  for (const price of niceTicks(priceDomain[0], priceDomain[1], 6)) {
    const py = y(price);
    el("line", { class: "grid", x1: box.left, x2: box.right, y1: py, y2: py }, layer);
    text(formatPrice(price), { class: "axis-label", x: box.right + 6, y: py + 4 }, layer);
  }
  const withDate = end - start > 86_400_000;
  const daysOnly = end - start > 14 * 86_400_000; // a daily chart: the clock says nothing
  for (const t of timeTicks(start, end, Math.max(2, Math.floor((box.right - box.left) / 110)))) {
    const px = x(t);
    el("line", { class: "grid", x1: px, x2: px, y1: box.priceTop, y2: box.bottom }, layer);
    const label = daysOnly
      ? formatDay(t)
      : formatTime(t, { withDate: withDate || t % 86_400_000 === 0 });
    const room = label.length * 3.5; // half the label's width, about, at 11px
    if (px - room >= 0 && px + room <= box.right + MARGIN.right) {
      text(label, { class: "axis-label", x: px, y: box.bottom + 17, "text-anchor": "middle" }, layer);
    }
  }
  el("line", { class: "axis", x1: box.left, x2: box.right, y1: box.bottom, y2: box.bottom }, layer);
  el("line", { class: "axis", x1: box.right, x2: box.right, y1: box.priceTop, y2: box.bottom }, layer);
  const volumeLabel = `vol ${formatCount(maxVolume)}`;
  text(volumeLabel, { class: "axis-label", x: box.right + 6, y: box.volumeTop + 10 }, layer);
  if (box.ratioTop < box.bottom) {
    const y = box.ratioTop - PANEL_GAP / 2;
    el("line", { class: "axis", x1: box.left, x2: box.right, y1: y, y2: y }, layer);
  }
}

function drawBars(layer, bars, box, x, y, yVolume, barWidth, barMs) {
  const body = Math.max(1, barWidth * 0.7);
  for (const bar of bars) {
    const cx = x(Date.parse(bar.start_ts) + barMs / 2);
    const direction = bar.close >= bar.open ? "up" : "down";
    const candle = el("g", {
      class: `candle ${direction}`,
      "data-candle": "",
      "data-ts": bar.start_ts,
      "data-open": bar.open,
      "data-high": bar.high,
      "data-low": bar.low,
      "data-close": bar.close,
    }, layer);
    el("line", { class: "wick", x1: cx, x2: cx, y1: y(bar.high), y2: y(bar.low) }, candle);
    const top = y(Math.max(bar.open, bar.close));
    const height = Math.max(1, y(Math.min(bar.open, bar.close)) - top);
    el("rect", { class: "body", x: cx - body / 2, y: top, width: body, height }, candle);
    const volumeTop = yVolume(bar.volume);
    el("rect", {
      class: `volume ${direction}`,
      "data-volume": bar.volume,
      "data-ts": bar.start_ts,
      x: cx - body / 2,
      y: volumeTop,
      width: body,
      height: Math.max(0, box.volumeBottom - volumeTop),
    }, layer);
  }
}

function drawAverages(layer, bars, x, y, barMs) {
  const closes = bars.map((bar) => bar.close);
  for (const window of SMA_WINDOWS) {
    const values = sma(closes, window);
    // Each average is drawn at the bar whose close completes its window.
    const points = values.map((value, i) => {
      const bar = bars[i + window - 1];
      return `${x(Date.parse(bar.start_ts) + barMs / 2).toFixed(2)},${y(value).toFixed(2)}`;
    });
    el("polyline", {
      class: `sma sma-${window}`,
      "data-sma": window,
      "data-count": values.length,
      "data-values": values.join(","),
      points: points.join(" "),
    }, layer);
  }
}

function drawAnomalies(layer, placed, x, y) {
  for (const { anomaly, price } of placed) {
    const px = x(Date.parse(anomaly.ts));
    const py = y(price);
    const r = MARKER_RADIUS;
    const marker = el("path", {
      class: `anomaly ${anomaly.severity}`,
      "data-anomaly": "",
      "data-ts": anomaly.ts,
      "data-rule": anomaly.rule,
      "data-severity": anomaly.severity,
      "data-value": anomaly.value,
      "data-threshold": anomaly.threshold,
      "data-price": price,
      "data-detail": anomaly.detail,
      d: `M${px},${py - r} L${px + r},${py} L${px},${py + r} L${px - r},${py} Z`,
      tabindex: 0,
    }, layer);
    const title = `${anomaly.rule} (${anomaly.severity}): ${anomaly.value} / ${anomaly.threshold}`;
    el("title", {}, marker).textContent = title;
  }
}

function drawRatios(layer, ratios, box, x, barMs) {
  const domain = paddedExtent(ratios.map((r) => r.ratio), 0.1);
  const y = linearScale(domain, [box.bottom, box.ratioTop]);
  for (const value of niceTicks(domain[0], domain[1], 3)) {
    const py = y(value);
    el("line", { class: "grid", x1: box.left, x2: box.right, y1: py, y2: py }, layer);
    text(formatPercent(value), { class: "axis-label", x: box.right + 6, y: py + 4 }, layer);
  }
  text("short vol ratio", { class: "axis-label", x: box.left + 4, y: box.ratioTop + 10 }, layer);
  // Each day's ratio is drawn at the middle of that day's bar, so it sits under its candle.
  const points = ratios.map((r) => `${x(r.ts + barMs / 2).toFixed(2)},${y(r.ratio).toFixed(2)}`);
  el("polyline", {
    class: "ratio",
    "data-ratio": "",
    "data-count": ratios.length,
    "data-days": ratios.map((r) => formatDay(r.ts)).join(","),
    "data-values": ratios.map((r) => r.ratio).join(","),
    points: points.join(" "),
  }, layer);
}

/**
 * Draws `bars` (oldest first, one per bucket) of [start, end) and their `anomalies` into `svg`,
 * replacing what it held; with `ratios` ([{ts, ratio}], see shortVolumeRatios) a panel of them
 * below the volume. Returns barAt(px): the bar under a horizontal SVG coordinate, or null.
 */
export function drawChart(svg, { bars, anomalies, ratios, start, end, barMs, width, height }) {
  svg.replaceChildren();
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  const box = layout(width, height, ratios !== undefined);
  const x = linearScale([start, end], [box.left, box.right]);
  const placed = anomalies
    .map((anomaly) => ({ anomaly, price: anomalyPrice(anomaly, bars, barMs) }))
    .filter(({ anomaly, price }) => price !== null && Number.isFinite(Date.parse(anomaly.ts)));
  const prices = bars.flatMap((bar) => [bar.low, bar.high]).concat(placed.map((p) => p.price));
  const priceDomain = paddedExtent(prices, 0.06);
  const y = linearScale(priceDomain, [box.priceBottom, box.priceTop]);
  const maxVolume = bars.reduce((most, bar) => Math.max(most, bar.volume), 0);
  const yVolume = linearScale([0, maxVolume || 1], [box.volumeBottom, box.volumeTop]);
  const barWidth = ((box.right - box.left) * barMs) / (end - start);

  const layers = ["axes", "bars", "averages", "anomalies", "ratios", "cursor"].map((name) =>
    el("g", { class: `layer-${name}` }, svg),
  );
  drawAxes(layers[0], box, x, y, priceDomain, start, end, maxVolume);
  drawBars(layers[1], bars, box, x, y, yVolume, barWidth, barMs);
  drawAverages(layers[2], bars, x, y, barMs);
  drawAnomalies(layers[3], placed, x, y);
  if (ratios !== undefined) drawRatios(layers[4], ratios, box, x, barMs);
  if (bars.length === 0) {
    const middle = { x: (box.left + box.right) / 2, y: (box.priceTop + box.priceBottom) / 2 };
    text("No bars in this range", { class: "empty", ...middle, "text-anchor": "middle" }, svg);
  }
  const cursor = el("line", { class: "cursor", y1: box.priceTop, y2: box.bottom, x1: -1, x2: -1 }, layers[5]);

  const starts = bars.map((bar) => Date.parse(bar.start_ts));
  return {
    barAt(px) {
      const t = start + ((px - box.left) / (box.right - box.left)) * (end - start);
      let found = null;
      for (let i = 0; i < bars.length && starts[i] <= t; i += 1) {
        if (t < starts[i] + barMs) found = bars[i];
      }
      const at = found ? x(Date.parse(found.start_ts) + barMs / 2) : -1;
      cursor.setAttribute("x1", at);
      cursor.setAttribute("x2", at);
      return found;
    },
  };
}
