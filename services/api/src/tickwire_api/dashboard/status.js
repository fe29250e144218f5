// The pipeline-status panel from /v1/status: each service instance (heartbeat, counters, lag,
// circuit, last error) and each feed (freshness, last tick, ticks, gaps), alive or stale; and
// from /v1/jobs/latest each batch job's last run (status, when, how long, rows, error).

import {
  formatAge,
  formatCount,
  formatTime,
  millisBetween,
  serviceAlive,
} from "./series.js";

function row(cells, attributes) {
  const tr = document.createElement("tr");
  for (const [key, value] of Object.entries(attributes)) tr.setAttribute(key, value);
  for (const cell of cells) {
    const td = document.createElement("td");
    if (cell instanceof Node) td.appendChild(cell);
    else td.textContent = cell;
    tr.appendChild(td);
  }
  return tr;
}

function badge(alive, why) {
  const span = document.createElement("span");
  span.className = `badge ${alive ? "alive" : "stale"}`;
  span.textContent = alive ? "alive" : "stale";
  span.title = why;
  return span;
}

function when(ts) {
  return ts ? formatTime(Date.parse(ts), { withDate: true, withSeconds: true }) : "-";
}

function errorText(text, shown = text) {
  if (!text) return "-";
  const span = document.createElement("span");
  span.className = "error-text";
  span.textContent = shown;
  span.title = text;
  return span;
}

function lastError(service) {
  return errorText(service.last_error, `${when(service.last_error_at)} ${service.last_error}`);
}

function fill(tbody, rows, empty) {
  tbody.replaceChildren(...rows);
  if (rows.length === 0) {
    const tr = row([empty], { class: "empty-row" });
    tr.firstChild.colSpan = tbody.closest("table").tHead.rows[0].cells.length;
    tbody.appendChild(tr);
  }
}

export function renderStatus(panel, status) {
  const services = status.services.map((s) => {
    const alive = serviceAlive(s);
    const why = `last heartbeat ${formatAge(s.heartbeat_age_s)} ago`;
    return row(
      [
        badge(alive, why),
        s.service,
        s.instance,
        formatAge(s.heartbeat_age_s),
        `${formatCount(s.rows_in)} / ${formatCount(s.rows_out)} / ${formatCount(s.rows_refused)}`,
        formatCount(s.lag),
        s.circuit ?? "-",
        lastError(s),
      ],
      { "data-service": s.service, "data-instance": s.instance, "data-alive": String(alive) },
    );
  });
  const feeds = status.feeds.map((f) => {
    const latency = millisBetween(f.last_exchange_ts, f.last_received_ts);
    const gap = f.last_gap_reason ? `${f.last_gap_reason} at ${when(f.last_gap_start)}` : "-";
    return row(
      [
        badge(!f.stale, f.stale ? "no tick within the staleness limit" : "ticking"),
        f.provider,
        f.instrument,
        when(f.last_exchange_ts),
        formatAge(f.age_s),
        latency === null ? "-" : formatAge(latency / 1000),
        formatCount(f.ticks),
        `${formatCount(f.gaps)} (${gap})`,
      ],
      {
        "data-feed": `${f.provider}|${f.instrument}`,
        "data-alive": String(!f.stale),
      },
    );
  });
  fill(panel.querySelector("#services tbody"), services, "No service has reported yet.");
  fill(panel.querySelector("#feeds tbody"), feeds, "No feed has delivered yet.");
}

// A run that ended well is green, one that failed or was stopped red, one still running amber.
const JOB_BADGES = { succeeded: "alive", failed: "stale", interrupted: "stale", running: "running" };

function jobBadge(run) {
  const span = document.createElement("span");
  span.className = `badge ${JOB_BADGES[run.status] ?? "stale"}`;
  span.textContent = run.status;
  span.title = `run ${run.id} on ${run.host ?? "an unknown host"}`;
  return span;
}

export function renderJobs(panel, runs, nowMs = Date.now()) {
  const rows = runs.map((run) => {
    const endedMs = Date.parse(run.finished_at ?? run.started_at);
    return row(
      [
        jobBadge(run),
        run.job,
        when(run.started_at),
        formatAge((nowMs - endedMs) / 1000),
        formatAge(run.duration_s),
        formatCount(run.rows),
        errorText(run.error),
      ],
      { "data-job": run.job, "data-status": run.status },
    );
  });
  fill(panel.querySelector("#jobs tbody"), rows, "No batch job has run yet.");
}
