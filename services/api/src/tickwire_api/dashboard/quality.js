// The data-quality calendar from /v1/quality: one line per provider and instrument, one cell per
// UTC day coloured by the share of the session that has data, gaps marked; a click on a cell
// shows that day's report. The pure parts (days, bands, grouping) are exported for the tests.

import { formatCount, formatDay, formatPercent, formatTime } from "./series.js";

export const QUALITY_DAYS = 35;
const DAY_MS = 86_400_000;

/** The `count` UTC days (YYYY-MM-DD) ending with the day of `nowMs`, oldest first. */
export function qualityDays(nowMs, count) {
  const today = Math.floor(nowMs / DAY_MS) * DAY_MS;
  return Array.from({ length: count }, (_, i) => formatDay(today - (count - 1 - i) * DAY_MS));
}

/** The day after a YYYY-MM-DD day: the exclusive end of a range. */
export function dayAfter(day) {
  return formatDay(Date.parse(`${day}T00:00:00Z`) + DAY_MS);
}

/** What a cell shows: no report ("missing"), no session ("closed"), or a band of coverage. */
export function coverageBand(row) {
  if (!row) return "missing";
  if (row.coverage === null || row.coverage === undefined) return "closed";
  if (row.coverage >= 0.99) return "full";
  if (row.coverage >= 0.9) return "high";
  if (row.coverage >= 0.5) return "mid";
  return "low";
}

/** Rows grouped by provider and instrument, sorted by instrument then provider. */
export function feedsOf(rows) {
  const feeds = new Map();
  for (const row of rows) {
    const key = `${row.provider}|${row.instrument}`;
    if (!feeds.has(key)) {
      feeds.set(key, { provider: row.provider, instrument: row.instrument, days: new Map() });
    }
    feeds.get(key).days.set(row.day, row);
  }
  return [...feeds.values()].sort(
    (a, b) =>
      a.instrument.localeCompare(b.instrument) || a.provider.localeCompare(b.provider),
  );
}

let shown = new Map(); // provider|instrument|day -> the row its cell shows

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function cell(feed, day) {
  const row = feed.days.get(day);
  const band = coverageBand(row);
  const button = element("button", `day ${band}${row?.gaps > 0 ? " gapped" : ""}`);
  button.type = "button";
  Object.assign(button.dataset, {
    provider: feed.provider,
    instrument: feed.instrument,
    day,
    band,
    gaps: String(row?.gaps ?? 0),
  });
  if (row) button.dataset.coverage = String(row.coverage ?? "");
  const what = row
    ? `${formatPercent(row.coverage)} covered, ${formatCount(row.gaps)} gaps`
    : "no report";
  button.title = `${feed.instrument} (${feed.provider}) ${day}: ${what}`;
  return button;
}

/** Draw the calendar of `rows` over `days` into the panel's #quality-calendar. */
export function renderQuality(panel, rows, days) {
  const calendar = panel.querySelector("#quality-calendar");
  const feeds = feedsOf(rows);
  shown = new Map(rows.map((r) => [`${r.provider}|${r.instrument}|${r.day}`, r]));
  const header = element("div", "quality-line header");
  header.append(element("span", "feed-name", "UTC day"));
  for (const day of days) header.append(element("span", "day-label", day.slice(8)));
  const lines = feeds.map((feed) => {
    const line = element("div", "quality-line");
    line.dataset.feed = `${feed.provider}|${feed.instrument}`;
    line.append(element("span", "feed-name", `${feed.instrument} (${feed.provider})`));
    line.append(...days.map((day) => cell(feed, day)));
    return line;
  });
  if (lines.length === 0) {
    lines.push(element("p", "muted", "No quality report yet: `tickwire quality --day D`."));
  }
  calendar.replaceChildren(header, ...lines);
  const picked = panel.querySelector("#quality-details").dataset;
  for (const button of calendar.querySelectorAll("button.day")) {
    const { provider, instrument, day } = button.dataset;
    if (provider === picked.provider && instrument === picked.instrument && day === picked.day) {
      button.classList.add("picked");
    }
  }
  calendar.dataset.state = "ready";
  calendar.dataset.days = `${days[0]}..${days[days.length - 1]}`;
}

// Entries by name: jsonb orders an object's keys by length first, which reads as no order.
function sorted(map) {
  return Object.entries(map || {}).sort(([a], [b]) => a.localeCompare(b));
}

function pairs(map, unit = "") {
  const entries = sorted(map);
  if (entries.length === 0) return "-";
  return entries.map(([k, v]) => `${k} ${v}${unit}`).join(", ");
}

function detailLines(row) {
  const when = (ts) => (ts ? formatTime(Date.parse(ts), { withSeconds: true }) : "-");
  const gaps = sorted(row.gaps_by_reason)
    .map(([reason, g]) => `${reason} ${g.gaps} (${g.seconds} s)`)
    .join(", ");
  const anomalies = sorted(row.anomalies_by_rule)
    .map(([rule, bySeverity]) => `${rule}: ${pairs(bySeverity)}`)
    .join("; ");
  const agreement = sorted(row.bar_agreement)
    .flatMap(([source, byInterval]) =>
      sorted(byInterval).map(
        ([interval, a]) =>
          `${source} ${interval}: ${a.bars} bars, max ${formatPercent(a.max_abs_rel_diff)}`,
      ),
    )
    .join("; ");
  const close =
    row.close_rel_diff === null
      ? "-"
      : `${row.computed_close} vs ${row.vendor_source} ${row.vendor_close} ` +
        `(${(row.close_rel_diff * 100).toFixed(3)}%)`;
  return [
    ["coverage", `${formatPercent(row.coverage)} of ${row.session_minutes} min (${row.calendar ?? "-"})`],
    ["ticks", `${row.ticks} (quotes ${row.quotes}, trades ${row.trades}, tickers ${row.tickers})`],
    ["first / last tick", `${when(row.first_tick)} / ${when(row.last_tick)}`],
    ["gaps", `${row.gaps}, ${row.gap_seconds} s lost${gaps ? `: ${gaps}` : ""}`],
    ["duplicates", `${row.duplicates} (${formatPercent(row.duplicate_rate)})`],
    ["rejects", `${row.rejects}${row.rejects ? `: ${pairs(row.rejects_by_reason)}` : ""}`],
    ["late ticks", String(row.late_ticks)],
    ["anomalies", `${row.anomalies}${anomalies ? `: ${anomalies}` : ""}`],
    ["daily close", close],
    ["bars vs vendor", agreement || "-"],
    ["computed", `${row.computed_at.slice(0, 19).replace("T", " ")} UTC by ${row.tickwire_version}`],
  ];
}

/** Show the report of the day a cell stands for in the panel's #quality-details. */
export function showDetails(panel, button) {
  const { provider, instrument, day } = button.dataset;
  const box = panel.querySelector("#quality-details");
  const row = shown.get(`${provider}|${instrument}|${day}`);
  for (const other of panel.querySelectorAll("button.day.picked")) other.classList.remove("picked");
  button.classList.add("picked");
  const title = element("h3", "", `${instrument} (${provider}), ${day}`);
  const list = element("dl");
  for (const [name, value] of row ? detailLines(row) : [["report", "none for this day"]]) {
    const term = element("dt", "", name);
    const definition = element("dd", "", value);
    definition.dataset.field = name;
    list.append(term, definition);
  }
  box.replaceChildren(title, list);
  box.hidden = false;
  Object.assign(box.dataset, { provider, instrument, day });
}

/** Clicks on the panel's cells show their day; once, when the page starts. */
export function wireQuality(panel) {
  panel.addEventListener("click", (event) => {
    const button = event.target.closest("button.day");
    if (button) showDetails(panel, button);
  });
}
