// The dashboard's wiring: the controls (kept in the URL's fragment), the refresh loop, the API-key
// prompt, the hover read-out and the anomaly tooltip. Drawing is in chart.js and status.js.

import { Unauthorized, getJson, storeKey } from "./api.js";
import { drawChart } from "./chart.js";
import {
  formatCount,
  formatPrice,
  formatTime,
  intervalMs,
  oneBarPerBucket,
  rangeEndingAt,
} from "./series.js";
import { renderStatus } from "./status.js";

const REFRESH_MS = 5_000;
const INSTRUMENTS_EVERY_MS = 60_000; // the list is a scan of every stored tick: not every cycle
const RANGE_MS = { "15m": 900_000, "1h": 3_600_000, "6h": 21_600_000, "1d": 86_400_000 };

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
  hover: byId("hover"),
  statusPanel: byId("status-panel"),
  tooltip: byId("tooltip"),
};

let generation = 0; // bumped by every change of selection: answers to older requests are dropped
let timer = null;
let instrumentsAt = null;
let drawn = null; // what the chart shows, to draw it again at a new width
let drawnSignature = "";
let view = null;
let preferred = null; // provider|instrument from the URL, until the list has been loaded once

function selection() {
  const [provider, instrument] = (ui.instrument.value || "|").split("|");
  return { provider, instrument, interval: ui.interval.value, range: ui.range.value };
}

function saveSelection() {
  const { provider, instrument, interval, range } = selection();
  const fragment = new URLSearchParams({ provider, instrument, interval, range });
  history.replaceState(null, "", `#${fragment}`);
}

function restoreSelection() {
  const wanted = new URLSearchParams(location.hash.slice(1));
  for (const name of ["interval", "range"]) {
    const value = wanted.get(name);
    if ([...ui[name].options].some((o) => o.value === value)) ui[name].value = value;
  }
  return wanted.has("instrument") ? `${wanted.get("provider")}|${wanted.get("instrument")}` : null;
}

function showMessage(text) {
  ui.message.textContent = text;
  ui.message.hidden = !text;
}

async function loadInstruments() {
  const { instruments } = await getJson("instruments");
  const values = instruments.map((i) => `${i.provider}|${i.instrument}`);
  const current = ui.instrument.value || preferred;
  const shown = [...ui.instrument.options].map((o) => o.value);
  if (values.join("\n") !== shown.join("\n")) {
    ui.instrument.replaceChildren(
      ...instruments.map((i, n) => new Option(`${i.instrument} (${i.provider})`, values[n])),
    );
  }
  if (values.includes(current)) ui.instrument.value = current;
  preferred = null;
  ui.instrument.disabled = values.length === 0;
  // An empty list is asked for again at the next refresh: a pipeline that just started fills it.
  instrumentsAt = values.length === 0 ? null : Date.now();
  if (values.length === 0) throw new Error("No instrument has stored ticks yet.");
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
  const { provider, instrument, interval, range } = selection();
  if (!instrument) return;
  const barMs = intervalMs(interval);
  const { start, end } = rangeEndingAt(Date.now(), RANGE_MS[range], barMs);
  const span = { start: new Date(start).toISOString(), end: new Date(end).toISOString() };
  const [series, found] = await Promise.all([
    getJson("bars", { instrument, provider, interval, ...span }),
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
    interval,
    start: span.start,
    end: span.end,
  });
  ui.title.textContent = `${instrument} (${provider}), ${interval} bars: ${bars.length}`;
}

async function loadStatus(gen) {
  const status = await getJson("status");
  if (gen === generation) renderStatus(ui.statusPanel, status);
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
    if (instrumentsAt === null || Date.now() - instrumentsAt > INSTRUMENTS_EVERY_MS) {
      await loadInstruments();
      saveSelection();
    }
    const results = await Promise.allSettled([loadChart(gen), loadStatus(gen)]);
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
  ui.chart.dataset.state = "loading";
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
  ui.hover.textContent = bar
    ? `${formatTime(Date.parse(bar.start_ts), { withDate: true })} O ${formatPrice(bar.open)} ` +
      `H ${formatPrice(bar.high)} L ${formatPrice(bar.low)} C ${formatPrice(bar.close)} ` +
      `V ${formatCount(bar.volume)}`
    : "";
}

function wire() {
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
