// The operator dashboard: polls /v1/dashboard and draws it. No library, no network but this
// server. The token comes from the address's fragment (#token=..., never sent to a server) or
// the form, and is kept for this browser tab only (sessionStorage).
"use strict";

const REFRESH_MS = 2000;
let refreshes = 0;

function token() {
  const match = /(?:^|[#&])token=([^&]+)/.exec(location.hash);
  if (match) {
    sessionStorage.setItem("shixin-token", decodeURIComponent(match[1]));
    history.replaceState(null, "", location.pathname);
  }
  return sessionStorage.getItem("shixin-token");
}

function text(id, value) {
  document.getElementById(id).textContent = String(value);
}

function rows(tableId, items, cells) {
  const body = document.querySelector(`#${tableId} tbody`);
  body.replaceChildren(
    ...items.map((item) => {
      const tr = document.createElement("tr");
      for (const [value, numeric] of cells(item)) {
        const td = document.createElement("td");
        td.textContent = value === null || value === undefined ? "-" : String(value);
        if (numeric) td.className = "num";
        tr.appendChild(td);
      }
      return tr;
    }),
  );
}

function svg(name, attrs, content) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (content !== undefined) node.textContent = content;
  return node;
}

// the server bins the lifts (sla_report.hours_distribution): at a million subjects, millions
function drawLiftChart(lifts) {
  const counts = lifts.bins.map((bin) => bin.count);
  const width = 560, height = 180, left = 40, bottom = 30, top = 10;
  const barWidth = (width - left) / lifts.bins.length;
  const most = Math.max(1, ...counts);
  const chart = svg("svg", {
    width, height, viewBox: `0 0 ${width} ${height}`, role: "img", id: "lift-svg",
    "aria-label": "time to lift, lifts per duration",
  });
  chart.appendChild(svg("line", { x1: left, y1: height - bottom, x2: width, y2: height - bottom, stroke: "#999" }));
  chart.appendChild(svg("text", { x: 0, y: top + 8 }, String(most)));
  chart.appendChild(svg("text", { x: 0, y: height - bottom }, "0"));
  counts.forEach((count, i) => {
    const barHeight = ((height - bottom - top) * count) / most;
    const x = left + i * barWidth + 4;
    const bar = svg("rect", {
      class: "bar", x, y: height - bottom - barHeight, width: barWidth - 8, height: barHeight,
      "data-bucket": lifts.bins[i].label, "data-count": count,
    });
    bar.appendChild(svg("title", {}, `${lifts.bins[i].label}: ${count}`));
    chart.appendChild(bar);
    chart.appendChild(svg("text", { x: x + 2, y: height - bottom + 14 }, lifts.bins[i].label));
    if (count) chart.appendChild(svg("text", { x: x + 2, y: height - bottom - barHeight - 3 }, String(count)));
  });
  document.getElementById("lift-chart").replaceChildren(chart);
  text(
    "lift-summary",
    lifts.closed ? `${lifts.closed} lifts, median ${lifts.median_hours.toFixed(1)} h` : "no lift yet",
  );
}

function show(data) {
  text("listed-entries", data.listed_entries);
  text("public-entries", data.public_entries);
  text("sanctionable-subjects", data.sanctionable_subjects);
  text("sanctioned-subjects", data.sanctioned_subjects);
  for (const verdict of ["open", "breached", "met", "missed"]) {
    text(`deadlines-${verdict}`, data.deadlines[verdict] ?? 0);
  }
  const states = ["applied", "pending_apply", "pending_lift", "retained", "lifted"];
  rows("by-department", Object.entries(data.sanctions_by_department), ([dept, counts]) => [
    [dept, false], ...states.map((s) => [counts[s] ?? 0, true]),
  ]);
  rows("breached", data.breached, (o) => [
    [o.kind], [o.entry_id], [o.department], [o.court], [o.due_on],
  ]);
  rows("recent-events", data.recent_events, (e) => [
    [e.at], [e.type], [e.entry_id], [e.case_no], [e.court ?? e.department],
  ]);
  rows("dead-letters", data.recent_dead_letters, (d) => [
    [d.at], [d.reason], [`${d.topic}/${d.partition}@${d.offset}`],
  ]);
  drawLiftChart(data.lift_times);
}

async function refresh() {
  const status = document.getElementById("status");
  const secret = token();
  if (!secret) {
    document.getElementById("login").hidden = false;
    status.textContent = "a token is needed";
    return;
  }
  try {
    const response = await fetch("/v1/dashboard", { headers: { Authorization: `Bearer ${secret}` } });
    if (response.status === 401 || response.status === 403) {
      sessionStorage.removeItem("shixin-token");
      document.getElementById("login").hidden = false;
      status.textContent = response.status === 401 ? "unknown token" : "this token may not see the dashboard";
      status.className = "error";
      return;
    }
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const data = await response.json();
    show(data);
    refreshes += 1;
    document.getElementById("board").hidden = false;
    document.getElementById("login").hidden = true;
    status.className = "";
    status.dataset.refreshes = String(refreshes);
    status.textContent = `updated ${new Date().toLocaleTimeString()}${data.ready ? "" : " (catching up)"}`;
  } catch (error) {
    status.className = "error";
    status.textContent = `cannot reach the server: ${error.message}`;
  }
}

document.getElementById("login").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem("shixin-token", document.getElementById("token").value);
  refresh();
});
refresh();
setInterval(refresh, REFRESH_MS);
