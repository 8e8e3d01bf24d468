// surgeproof's live dashboard: polls /api/state every second and redraws with plotly.js.
// Every value from the server is put on the page as text (textContent), never as markup.
"use strict";

const COLOURS = ["#1c7ed6", "#e8590c", "#2b8a3e", "#ae3ec9", "#495057", "#f08c00", "#0b7285"];
const CAUSE_COLOURS = {
  rate_limited: "#e6a700", blocked: "#b35900", server_error: "#d62728", timeout: "#7b3294",
  connection_error: "#444444", client_error: "#8c8c8c", backlogged: "#f783ac",
  missed: "#17becf", cancelled: "#bcbd22",
};
const MARK_COLOURS = {
  worker_lost: "#c92a2a", target_down: "#212529", target_up: "#2b8a3e", gateway_down: "#862e9c",
  gateway_up: "#5f3dc4", rebalanced: "#1864ab", stall: "#e67700", abort: "#c92a2a",
  worker_joined: "#adb5bd", rehold_limit: "#c92a2a",
};
const rows = [];           // closed seconds, in order
let openRows = [];         // seconds still filling
let cursor = null;         // the last closed second received (seconds from t0)
let state = null;
let failures = 0;

function el(id) { return document.getElementById(id); }
function text(id, value) { el(id).textContent = value === null || value === undefined ? "–" : String(value); }
function fmt(n, digits = 0) {
  if (n === null || n === undefined || Number.isNaN(n)) return "–";
  return Number(n).toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
function pct(r) { return r === null || r === undefined ? "–" : (100 * r).toFixed(1) + "%"; }

function fillTable(id, cells) {
  const body = el(id).querySelector("tbody");
  body.replaceChildren();
  for (const row of cells) {
    const tr = document.createElement("tr");
    for (const c of row) {
      const td = document.createElement("td");
      td.textContent = c.text === undefined ? String(c) : c.text;
      if (c.cls) td.className = c.cls;
      if (c.key) td.dataset.key = c.key;
      tr.appendChild(td);
    }
    body.appendChild(tr);
  }
}

async function poll() {
  const query = cursor === null ? "" : "?after=" + encodeURIComponent(cursor);
  try {
    const r = await fetch("/api/state" + query, { cache: "no-store" });
    if (!r.ok) throw new Error(r.status);
    state = await r.json();
    failures = 0;
  } catch (e) {
    failures += 1;
    if (failures >= 3) {
      text("status", state && state.final ? "ended: the dashboard has stopped" : "no answer from the run");
    }
    return;
  }
  for (const row of state.rows) {
    if (cursor === null || row.t > cursor) rows.push(row);
  }
  if (rows.length) cursor = rows[rows.length - 1].t;
  openRows = state.open;
  render();
}

function render() {
  const run = state.run;
  const scaled = run.user_scale && run.user_scale !== 1;
  text("scenario", run.scenario);
  text("run-id", run.id);
  text("target", run.target);
  text("scale", scaled
    ? `1 simulated user = ${fmt(1 / run.user_scale)} real ${run.unit}`
    : "unscaled: simulated users are real users");
  text("status", run.status);
  el("status").className = "pill " + run.status;
  text("phase", state.phase ? state.phase.name : "–");
  text("clock", run.now === null ? "–" : fmt(run.now));
  const alive = state.workers.filter((w) => w.state === "alive").length;
  const lost = state.workers.length - alive;
  text("workers-alive", `${alive} alive` + (lost ? `, ${lost} lost` : ""));
  renderSecond();
  renderCharts(scaled ? 1 / run.user_scale : 1, run.unit, scaled);
  renderLevels();
  renderWorkers();
  renderMarks();
  renderFinal();
}

function renderSecond() {
  const last = rows[rows.length - 1];
  if (!last) return;
  el("second").dataset.second = String(last.t);
  text("second-t", fmt(last.t));
  text("second-offered", fmt(last.offered));
  text("second-answered", fmt(last.answered));
  text("second-ok", fmt(last.ok));
  text("second-error-ratio", pct(last.error_ratio));
  text("second-users", fmt(last.users));
  const causes = Object.entries(last.errors);
  fillTable("second-errors", causes.length
    ? causes.map(([c, n]) => [c.replace("_", " "), { text: fmt(n), cls: "num", key: "errors." + c }])
    : [["none", ""]]);
  fillTable("second-groups", Object.entries(last.groups).map(([g, v]) => [
    g, { text: fmt(v.count), cls: "num", key: "groups." + g + ".count" },
    { text: fmt(v.errors), cls: "num" }, { text: fmt(v.p50, 1), cls: "num" },
    { text: fmt(v.p99, 1), cls: "num" },
  ]));
}

function marksShapes() {
  const shapes = [];
  for (const m of state.marks) {
    if (m.t === null) continue;
    shapes.push({ type: "line", xref: "x", yref: "paper", x0: m.t, x1: m.t, y0: 0, y1: 1,
      line: { color: MARK_COLOURS[m.type] || "#868e96", width: 1, dash: "dot" } });
  }
  return shapes;
}

function phaseShapes() {
  const out = [];
  const phases = state.phases.filter((p) => p.t !== null);
  phases.forEach((p, i) => {
    out.push({ type: "line", xref: "x", yref: "paper", x0: p.t, x1: p.t, y0: 0, y1: 1,
      line: { color: "#ced4da", width: 1 } });
  });
  return out;
}

let xRange = [0, 1];

function layout(yTitle, extra = {}) {
  return Object.assign({
    margin: { l: 64, r: 24, t: 10, b: 84 },
    xaxis: { title: { text: "seconds since the run started", standoff: 6 }, zeroline: false, range: xRange },
    yaxis: { title: { text: yTitle }, rangemode: "tozero" },
    legend: { orientation: "h", y: -0.32, x: 0, yanchor: "top" },
    shapes: [...phaseShapes(), ...marksShapes()],
    hovermode: "x unified",
    uirevision: "keep",
  }, extra);
}

function series(all, pick) { return all.map(pick); }

function renderCharts(realPerSim, unit, scaled) {
  if (!window.Plotly) return;
  const all = rows.concat(openRows);
  const t = all.map((r) => r.t);
  const lighter = all.map((r) => (r.final ? 1 : 0.35));
  const config = { displayModeBar: false, responsive: true };
  xRange = [0, Math.max(1, t.length ? t[t.length - 1] + 1 : 1)];
  Plotly.react("chart-load", [
    { x: t, y: series(all, (r) => r.offered), name: "calls due (offered)", mode: "lines", line: { color: "#1864ab" } },
    { x: t, y: series(all, (r) => r.answered), name: "answers (achieved)", mode: "lines", line: { color: "#74c0fc" } },
    { x: t, y: series(all, (r) => r.ok), name: "successful answers", mode: "lines", line: { color: "#2b8a3e" } },
  ], layout("calls per second"), config);

  const traces = [];
  const sloShapes = [];
  state.groups.forEach((g, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const slo = state.slos.find((s) => s.group === g && s.metric !== "error_ratio")
      || state.slos.find((s) => s.group === "*" && s.metric !== "error_ratio");
    const metric = slo && ["p50", "p90", "p95", "p99", "p99.9"].includes(slo.metric) ? slo.metric : "p99";
    traces.push({ x: t, y: series(all, (r) => (r.groups[g] ? r.groups[g][metric] : null)),
      name: `${g} ${metric}`, mode: "lines", line: { color: colour }, connectgaps: false });
    if (slo) {
      sloShapes.push({ type: "line", xref: "paper", x0: 0, x1: 1, y0: slo.limit, y1: slo.limit,
        line: { color: colour, width: 1.5, dash: "dash" } });
      traces.push({ x: [null], y: [null], name: `SLO ${slo.text}`, mode: "lines",
        line: { color: colour, dash: "dash" } });
    }
  });
  const lat = layout("latency (ms)");
  lat.shapes = lat.shapes.concat(sloShapes);
  const values = traces.flatMap((tr) => tr.y).filter((v) => v > 0)
    .concat(state.slos.filter((s) => s.metric !== "error_ratio").map((s) => s.limit));
  if (values.length && Math.max(...values) / Math.min(...values) > 100) {
    lat.yaxis.type = "log";  // wide: the low latencies stay readable beside the SLO lines
    lat.yaxis.rangemode = undefined;
    lat.yaxis.dtick = 1;  // decades only: 1, 10, 100, 1000 ms
  }
  Plotly.react("chart-latency", traces, lat, config);

  const causes = Object.keys(CAUSE_COLOURS).filter((c) => all.some((r) => r.errors[c]));
  Plotly.react("chart-errors", causes.map((c) => ({
    x: t, y: series(all, (r) => r.errors[c] || 0), name: c.replace("_", " "), type: "bar",
    marker: { color: CAUSE_COLOURS[c], opacity: lighter },
  })), layout("calls per second", { barmode: "stack", bargap: 0 }), config);

  const usersTitle = scaled ? `concurrent ${unit} (real)` : "concurrent users";
  Plotly.react("chart-users", [
    { x: t, y: series(all, (r) => (r.users === null ? null : r.users * realPerSim)), name: "offered", mode: "lines", line: { color: "#1c7ed6", shape: "hv" } },
    { x: t, y: series(all, (r) => (r.active === null ? null : r.active * realPerSim)), name: "active (generator)", mode: "lines", line: { color: "#74c0fc", dash: "dot" } },
  ], layout(usersTitle, {
    annotations: state.phases.filter((p) => p.t !== null).map((p) => ({
      x: p.t, y: 1, yref: "paper", text: p.name, showarrow: false, xanchor: "left",
      yanchor: "top", textangle: -90, font: { size: 10, color: "#868e96" } })),
  }), config);
  text("users-caption", scaled
    ? `Offered and active users in real ${unit} (simulated × ${fmt(realPerSim)}), with the phases.`
    : "Offered and active users, with the phases.");

  Plotly.react("chart-websocket", [
    { x: t, y: series(all, (r) => r.ws_sessions), name: "sessions subscribed (simulated)", mode: "lines", line: { color: "#1864ab" } },
    { x: t, y: series(all, (r) => r.reconnects), name: "reconnect attempts /s", type: "bar", yaxis: "y2", marker: { color: "#e8590c" } },
    { x: t, y: series(all, (r) => r.sessions_lost), name: "sessions lost /s", type: "bar", yaxis: "y2", marker: { color: "#212529" } },
  ], layout("sessions", { yaxis2: { overlaying: "y", side: "right", title: { text: "per second" }, rangemode: "tozero" }, margin: { l: 64, r: 64, t: 10, b: 84 } }), config);

  const sources = [...new Set(all.flatMap((r) => Object.keys(r.cpu || {})))].sort();
  Plotly.react("chart-cpu", sources.map((s, i) => ({
    x: t, y: series(all, (r) => (r.cpu && s in r.cpu ? r.cpu[s] : null)), name: s, mode: "lines",
    line: { color: COLOURS[i % COLOURS.length] },
  })), layout("CPU %"), config);
}

function renderLevels() {
  const judged = state.levels.filter((l) => l.verdict);
  el("search").hidden = judged.length === 0;
  el("steady").hidden = judged.length > 0 || state.levels.length === 0;
  if (judged.length) {
    fillTable("levels", judged.map((l) => [l.label, { text: fmt(l.users), cls: "num" },
      { text: l.verdict.toUpperCase(), cls: "verdict-" + l.verdict }, l.reasons.join("; ") || "–",
      `(${l.bracket.last_pass ?? "–"}, ${l.bracket.first_fail ?? "–"}]`]));
    if (window.Plotly) {
      const n = judged.map((_, i) => i + 1);
      Plotly.react("chart-bracket", [
        { x: n, y: judged.map((l) => l.users), mode: "markers", name: "level held",
          marker: { size: 10, color: judged.map((l) => (l.verdict === "pass" ? "#2b8a3e" : l.verdict === "fail" ? "#c92a2a" : "#e67700")) } },
        { x: n, y: judged.map((l) => l.bracket.last_pass), mode: "lines", name: "last pass", line: { color: "#2b8a3e", shape: "hv" } },
        { x: n, y: judged.map((l) => l.bracket.first_fail), mode: "lines", name: "first fail", line: { color: "#c92a2a", shape: "hv" } },
      ], { margin: { l: 64, r: 24, t: 10, b: 84 }, xaxis: { title: { text: "levels judged" }, dtick: 1 },
        yaxis: { title: { text: "simulated users" }, rangemode: "tozero" }, legend: { orientation: "h", y: -0.32, yanchor: "top" } },
      { displayModeBar: false, responsive: true });
    }
  } else {
    fillTable("windows", state.levels.map((l) => [l.label, { text: fmt(l.users), cls: "num" },
      { text: fmt(l.start, 1), cls: "num" }, { text: fmt(l.end, 1), cls: "num" }]));
  }
}

function renderWorkers() {
  fillTable("workers", state.workers.map((w) => [w.source, w.state, { text: fmt(w.users), cls: "num" },
    { text: fmt(w.cpu), cls: "num" }, { text: fmt(w.records), cls: "num" }]));
}

function renderMarks() {
  const list = el("marks");
  list.replaceChildren();
  const marks = state.marks.filter((m) => m.type !== "worker_joined");
  if (!marks.length) {
    const li = document.createElement("li");
    li.textContent = "none yet";
    list.appendChild(li);
  }
  for (const m of marks) {
    const li = document.createElement("li");
    li.textContent = `t = ${fmt(m.t, 1)} s: ${m.text}`;
    list.appendChild(li);
  }
}

function renderFinal() {
  const f = state.final;
  el("final").hidden = !f;
  if (!f) return;
  el("final").className = f.status;
  text("final-status", f.headline);
  const list = el("final-lines");
  list.replaceChildren();
  for (const line of f.lines) {
    const li = document.createElement("li");
    li.textContent = line;
    list.appendChild(li);
  }
  const where = el("final-report");
  where.replaceChildren();
  if (f.report) {
    const a = document.createElement("a");
    a.href = f.report;
    a.textContent = "Open the report";
    where.appendChild(a);
    where.appendChild(document.createTextNode(` (${f.report_path}; served for ${fmt(state.run.linger_s)} s after the run)`));
  } else if (f.report_path) {
    where.textContent = "Report: " + f.report_path;
  }
}

poll();
setInterval(poll, 1000);
