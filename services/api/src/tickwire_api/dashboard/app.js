// The dashboard's wiring: the controls (kept in the URL's fragment), the refresh loop, the API-key
// prompt, the hover read-out and the anomaly tooltip. Drawing is in chart.js and status.js.
// Two views: live computed bars of a feed, or a backfilled instrument's daily vendor bars with
// its short volume ratio. Below them the pipeline's status and the data-quality calendar
// (quality.js).

import { Unauthorized, getAllPages, getJson, storeKey } from "./api.js";
import { drawChart } from "./chart.js";
import {
  formatCount,
  formatDay,
  formatPercent,
  formatPrice,
  formatTime,
  intervalMs,
  oneBarPerBucket,
  rangeEndingAt,
  shortVolumeRatios,
} from "./series.js";
import { QUALITY_DAYS, dayAfter, qualityDays, renderQuality, wireQuality } from "./quality.js";
import { renderJobs, renderStatus } from "./status.js";

const REFRESH_MS = 5_000;
const INSTRUMENTS_EVERY_MS = 60_000; // the list reads the history's coverage: not every cycle
const DAY_MS = 86_400_000;
const DAILY_EVERY_MS = 300_000; // daily history grows once a day: not every cycle either
const RANGE_MS = {
  "15m": 900_000,
  "1h": 3_600_000,
  "6h": 21_600_000,
  "1d": DAY_MS,
  "3mo": 91 * DAY_MS,
  "1y": 365 * DAY_MS,
  "5y": 1_826 * DAY_MS,
};
const QUALITY_EVERY_MS = 60_000; // the report is computed once a day: a minute is plenty
const DAILY_FACILITY = "CNMS"; // FINRA's consolidated file: every facility's volume of the day

const byId = (id) => document.getElementById(id);
const ui = {
  instrument: byId("instrument"),
  interval: byId("interval"),
  range: byId("range"),
  auto: byId("auto"),
  updated: byId("updated"),
  keyForm: byId("key-form"),
  keyInput: byId("api-key"),
  keyMessage: byId("key-message"),
  message: byId("message"),
  chart: byId("chart"),
  chartBox: byId("chart-box"),
  title: byId("title"),
  ratioKey: byId("ratio-key"),
  hover: byId("hover"),
  statusPanel: byId("status-panel"),
  qualityPanel: byId("quality-panel"),
  tooltip: byId("tooltip"),
};

let generation = 0; // bumped by every change of selection: answers to older requests are dropped
let timer = null;
let instrumentsAt = null;
let drawn = null; // what the chart shows, to draw it again at a new width
let drawnSignature = "";
let view = null;
let preferred = null; // the option value the URL names, until the list is loaded
let liveInterval = null; // the live view's interval, kept while a daily chart shows 1d
let dailyShown = null; // {key, at}: the daily chart drawn, and when its data was fetched
let qualityAt = null; // when the quality calendar's rows were last fetched

// An option's value: [provider, instrument] for a live feed (computed bars), and
// [provider, instrument, source] for a vendor's daily bars of a backfilled instrument, as JSON:
// names come from outside and may hold any character a separator would be.
function optionValue(...parts) {
  return JSON.stringify(parts);
}

function selection() {
  const [provider = "", instrument = "", source] = ui.instrument.value
    ? JSON.parse(ui.instrument.value)
    : [];
  const daily = Boolean(source);
  return {
    provider,
    instrument,
    source: daily ? source : "computed",
    daily,
    interval: daily ? "1d" : ui.interval.value,
    range: ui.range.value,
  };
}

function saveSelection() {
  const { provider, instrument, source, daily, interval, range } = selection();
  const fragment = new URLSearchParams({ provider, instrument, interval, range });
  if (daily) fragment.set("source", source);
  history.replaceState(null, "", `#${fragment}`);
}

// The controls that fit the view: a daily chart is 1d over months or years, a live one any
// interval over hours.
function fitControls() {
  const { daily } = selection();
  if (daily && !ui.interval.disabled) {
    liveInterval = ui.interval.value;
    ui.interval.value = "1d";
  } else if (!daily && ui.interval.disabled) {
    ui.interval.value = liveInterval || "1m";
  }
  ui.interval.disabled = daily;
  for (const option of ui.range.options) {
    option.hidden = option.hasAttribute("data-daily") !== daily;
    option.disabled = option.hidden;
  }
  if (ui.range.selectedOptions[0]?.disabled) ui.range.value = daily ? "1y" : "1h";
  ui.ratioKey.hidden = !daily;
}

function restoreSelection() {
  const wanted = new URLSearchParams(location.hash.slice(1));
  for (const name of ["interval", "range"]) {
    const value = wanted.get(name);
    if ([...ui[name].options].some((o) => o.value === value)) ui[name].value = value;
  }
  if (!wanted.has("instrument")) return null;
  const chosen = [wanted.get("provider"), wanted.get("instrument")];
  return optionValue(...chosen, ...(wanted.has("source") ? [wanted.get("source")] : []));
}

function showMessage(text) {
  ui.message.textContent = text;
  ui.message.hidden = !text;
}

async function loadInstruments() {
  const { instruments, backfilled = [] } = await getJson("instruments");
  const live = instruments.map((i) => ({
    value: optionValue(i.provider, i.instrument),
    label: `${i.instrument} (${i.provider})`,
  }));
  // Backfilled instruments with a vendor's daily bars, one entry per vendor.
  const daily = backfilled.flatMap((b) =>
    b.coverage
      .filter((c) => c.dataset === "bars" && c.interval === "1d")
      .map((c) => ({
        value: optionValue(c.provider, b.instrument, c.source),
        label: `${b.instrument} (${c.source}, daily)`,
      })),
  );
  const values = [...live, ...daily].map((o) => o.value);
  const current = ui.instrument.value || preferred;
  const shown = [...ui.instrument.options].map((o) => o.value);
  if (values.join("\n") !== shown.join("\n")) {
    const options = (list) => list.map((o) => new Option(o.label, o.value));
    const groups = options(live);
    if (daily.length > 0) {
      const group = document.createElement("optgroup");
      group.label = "Backfilled history, daily";
      group.append(...options(daily));
      groups.push(group);
    }
    ui.instrument.replaceChildren(...groups);
  }
  if (values.includes(current)) ui.instrument.value = current;
  preferred = null;
  ui.instrument.disabled = values.length === 0;
  fitControls();
  // An empty list is asked for again at the next refresh: a pipeline that just started fills it.
  instrumentsAt = values.length === 0 ? null : Date.now();
  if (values.length === 0) {
    throw new Error("No instrument has stored ticks or backfilled daily bars yet.");
  }
}

function chartSize() {
  const width = Math.max(480, Math.floor(ui.chartBox.clientWidth));
  return { width, height: Math.round(Math.min(560, Math.max(340, width * 0.42))) };
}

function draw() {
  if (drawn === null) return;
  view = drawChart(ui.chart, { ...drawn, ...chartSize() });
}

async function loadChart(gen) {
  const chosen = selection();
  if (!chosen.instrument) return;
  if (chosen.daily) {
    await loadDaily(gen, chosen);
    return;
  }
  const { provider, instrument, source, interval, range } = chosen;
  const barMs = intervalMs(interval);
  const { start, end } = rangeEndingAt(Date.now(), RANGE_MS[range], barMs);
  const span = { start: new Date(start).toISOString(), end: new Date(end).toISOString() };
  // Computed bars only: a backfill of the same venue adds vendor bars the API will not mix in.
  const [series, found] = await Promise.all([
    getJson("bars", { instrument, provider, source, interval, ...span }),
    getJson("anomalies", { instrument, provider, ...span }),
  ]);
  if (gen !== generation) return;
  const bars = oneBarPerBucket(series.bars);
  const signature = JSON.stringify([bars, found.anomalies, start, end]);
  // Unchanged data is not drawn again: a hovered marker and its tooltip stay put.
  if (signature !== drawnSignature) {
    drawn = { bars, anomalies: found.anomalies, start, end, barMs };
    drawnSignature = signature;
    draw();
  }
  Object.assign(ui.chart.dataset, {
    state: "ready",
    provider,
    instrument,
    source,
    interval,
    start: span.start,
    end: span.end,
  });
  ui.title.textContent = `${instrument} (${provider}), ${interval} bars: ${bars.length}`;
}

// A vendor's daily bars of a backfilled equity, and below them its short volume ratio per day
// (/v1/short-volume, every page of the range). No anomalies: backfilled data raises none.
async function loadDaily(gen, { provider, instrument, source, range }) {
  const { start, end } = rangeEndingAt(Date.now(), RANGE_MS[range], DAY_MS);
  const key = JSON.stringify([provider, instrument, source, start, end]);
  if (dailyShown?.key === key && Date.now() - dailyShown.at < DAILY_EVERY_MS) return;
  const span = { start: new Date(start).toISOString(), end: new Date(end).toISOString() };
  const days = { start: formatDay(start), end: formatDay(end) };
  const [series, rows] = await Promise.all([
    getJson("bars", { instrument, provider, source, interval: "1d", ...span }),
    getAllPages("short-volume", { instrument, facility: DAILY_FACILITY, ...days }, "short_volume"),
  ]);
  if (gen !== generation) return;
  const ratios = shortVolumeRatios(rows);
  drawn = { bars: series.bars, anomalies: [], ratios, start, end, barMs: DAY_MS };
  drawnSignature = JSON.stringify([series.bars, ratios, start, end]);
  dailyShown = { key, at: Date.now() };
  draw();
  Object.assign(ui.chart.dataset, {
    state: "ready",
    provider,
    instrument,
    source,
    interval: "1d",
    start: span.start,
    end: span.end,
  });
  ui.title.textContent =
    `${instrument} (${source}), daily bars: ${series.bars.length}, ` +
    `short volume ratio: ${ratios.length} days`;
}

async function loadInstrumentsAndChart(gen) {
  if (instrumentsAt === null || Date.now() - instrumentsAt > INSTRUMENTS_EVERY_MS) {
    await loadInstruments();
    saveSelection();
  }
  await loadChart(gen);
}

async function loadStatus(gen) {
  const [status, jobs] = await Promise.all([getJson("status"), getJson("jobs/latest")]);
  if (gen !== generation) return;
  renderStatus(ui.statusPanel, status);
  renderJobs(ui.statusPanel, jobs.runs);
}

// Every provider's and instrument's report over the last QUALITY_DAYS days, every page of it.
async function loadQuality() {
  if (qualityAt !== null && Date.now() - qualityAt < QUALITY_EVERY_MS) return;
  const days = qualityDays(Date.now(), QUALITY_DAYS);
  const range = { start: days[0], end: dayAfter(days[days.length - 1]) };
  const rows = await getAllPages("quality", range, "quality");
  renderQuality(ui.qualityPanel, rows, days);
  qualityAt = Date.now();
}

function askForKey(reason) {
  ui.keyMessage.textContent = reason || "The API needs a key (X-API-Key).";
  ui.keyForm.hidden = false;
  ui.keyInput.focus();
}

async function cycle() {
  clearTimeout(timer);
  const gen = generation;
  if (document.hidden) {
    timer = setTimeout(cycle, REFRESH_MS); // nobody is looking: ask the API for nothing
    return;
  }
  try {
    // The status panel and the quality calendar do not wait for an instrument: while none has
    // data yet (a first backfill running) they are what there is to see.
    const results = await Promise.allSettled([
      loadInstrumentsAndChart(gen),
      loadStatus(gen),
      loadQuality(),
    ]);
    const failed = results.find((r) => r.status === "rejected");
    if (failed) {
      if (results[0].status === "rejected") ui.chart.dataset.state = "error";
      throw failed.reason;
    }
    if (gen !== generation) return; // a newer cycle owns the screen and the timer
    showMessage("");
    ui.updated.textContent = `updated ${formatTime(Date.now(), { withSeconds: true })} UTC`;
  } catch (error) {
    if (error instanceof Unauthorized) {
      askForKey(error.message);
      return; // nothing more to ask without a key
    }
    if (gen !== generation) return;
    showMessage(error.message || String(error));
  }
  if (ui.auto.checked) timer = setTimeout(cycle, REFRESH_MS);
}

function selectionChanged() {
  generation += 1;
  dailyShown = null;
  ui.chart.dataset.state = "loading";
  fitControls();
  saveSelection();
  cycle();
}

function showTooltip(marker, event) {
  const d = marker.dataset;
  const lines = [
    `${d.rule} (${d.severity})`,
    `value ${d.value}, threshold ${d.threshold}`,
    `${formatTime(Date.parse(d.ts), { withDate: true, withSeconds: true })} UTC at ${formatPrice(Number(d.price))}`,
    d.detail,
  ];
  ui.tooltip.replaceChildren(...lines.filter(Boolean).map((line) => {
    const div = document.createElement("div");
    div.textContent = line;
    return div;
  }));
  ui.tooltip.className = d.severity;
  ui.tooltip.hidden = false;
  const box = marker.getBoundingClientRect();
  const x = event.clientX ?? box.right;
  const y = event.clientY ?? box.bottom;
  // Away from the chart's newest bars (on the right) when the marker is in the right half.
  const left = x > window.innerWidth / 2 ? x - 14 - ui.tooltip.offsetWidth : x + 14;
  ui.tooltip.style.left = `${Math.max(8, left)}px`;
  ui.tooltip.style.top = `${Math.min(y + 14, window.innerHeight - ui.tooltip.offsetHeight - 8)}px`;
}

function hoverReadout(event) {
  if (view === null) return;
  const box = ui.chart.getBoundingClientRect();
  const scale = Number(ui.chart.getAttribute("width")) / box.width;
  const bar = view.barAt((event.clientX - box.left) * scale);
  if (!bar) {
    ui.hover.textContent = "";
    return;
  }
  const ts = Date.parse(bar.start_ts);
  const prices =
    `O ${formatPrice(bar.open)} H ${formatPrice(bar.high)} L ${formatPrice(bar.low)} ` +
    `C ${formatPrice(bar.close)} V ${formatCount(bar.volume)}`;
  if (drawn.ratios === undefined) {
    ui.hover.textContent = `${formatTime(ts, { withDate: true })} ${prices}`;
    return;
  }
  const day = drawn.ratios.find((r) => r.ts === ts);
  const adjusted = bar.adj_close == null ? "" : ` adj ${formatPrice(bar.adj_close)}`;
  ui.hover.textContent =
    `${formatDay(ts)} ${prices}${adjusted} short vol ratio ${formatPercent(day?.ratio)}`;
}

function wire() {
  wireQuality(ui.qualityPanel);
  for (const control of [ui.instrument, ui.interval, ui.range]) {
    control.addEventListener("change", selectionChanged);
  }
  ui.auto.addEventListener("change", () => (ui.auto.checked ? cycle() : clearTimeout(timer)));
  ui.keyForm.addEventListener("submit", (event) => {
    event.preventDefault();
    storeKey(ui.keyInput.value.trim());
    ui.keyInput.value = "";
    ui.keyForm.hidden = true;
    instrumentsAt = null;
    qualityAt = null;
    selectionChanged();
  });
  ui.chart.addEventListener("mousemove", hoverReadout);
  ui.chart.addEventListener("mouseleave", () => {
    ui.hover.textContent = "";
    view?.barAt(-1);
  });
  for (const type of ["mouseover", "focusin"]) {
    ui.chart.addEventListener(type, (event) => {
      const marker = event.target.closest("[data-anomaly]");
      if (marker) showTooltip(marker, event);
    });
  }
  for (const type of ["mouseout", "focusout"]) {
    ui.chart.addEventListener(type, (event) => {
      if (event.target.closest("[data-anomaly]")) ui.tooltip.hidden = true;
    });
  }
  document.addEventListener("visibilitychange", () => document.hidden || cycle());
  let pending = false;
  new ResizeObserver(() => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      draw();
    });
  }).observe(ui.chartBox);
}

wire();
preferred = restoreSelection();
cycle();
