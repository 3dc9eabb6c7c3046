// The network pages: charts drawn with plotly.min.js (served by Sixfold itself) from the data
// in <script type="application/json"> blocks, and tables sortable by their column headings.
// Everything is in the page as text and tables too; the charts are a way to see it at once.
"use strict";

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
const INK = "#1d2433";
const MUTED = "#5d6677";
const ACCENT = "#2f5bd3";
const PALETTE = [
  "#2f5bd3", "#d97706", "#1b7a43", "#b42318", "#7c3aed", "#0e7490",
  "#be185d", "#4d7c0f", "#92400e", "#475569", "#0369a1", "#a16207",
];
const CONFIG = {
  displaylogo: false,
  responsive: true,
  modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d", "toImage"],
};

function layout(extra) {
  return Object.assign({
    font: { family: FONT, size: 12, color: INK },
    paper_bgcolor: "#fff",
    plot_bgcolor: "#fff",
    margin: { l: 56, r: 16, t: 12, b: 48 },
    hoverlabel: { font: { family: FONT } },
  }, extra);
}

function readJson(id) {
  const element = document.getElementById(id);
  return element ? JSON.parse(element.textContent) : null;
}

// Below this width (a phone) charts put labels where they fit: upright column names, fewer
// dates, shorter axis titles.
const NARROW = 480;

function narrow(element) {
  return element.clientWidth < NARROW;
}

// plotly's `responsive` resizes a chart to its box, but the choices above depend on that
// width too: redraw once the window has settled at a new width (a phone turned sideways).
function redrawOnResize(draw) {
  let timer = 0;
  let width = window.innerWidth;
  window.addEventListener("resize", () => {
    if (window.innerWidth === width) return;
    width = window.innerWidth;
    clearTimeout(timer);
    timer = setTimeout(draw, 200);
  });
}

function percent(value) {
  return value === null || value === undefined ? "—" : `${Math.round(value * 100)}%`;
}

document.addEventListener("DOMContentLoaded", () => {
  for (const table of document.querySelectorAll("table[data-sortable]")) makeSortable(table);
  // Without plotly (a blocked script, say) the page still has its tables and text.
  if (typeof window.Plotly === "undefined") return;
  const charts = readJson("network-charts");
  if (charts) drawOverview(charts);
  const person = readJson("network-person");
  if (person) drawPerson(person);
});

// Sortable tables ------------------------------------------------------------------------

function makeSortable(table) {
  const status = document.createElement("p");
  status.className = "visually-hidden";
  status.setAttribute("aria-live", "polite");
  table.after(status);
  Array.from(table.tHead.rows[0].cells).forEach((th, column) => {
    const type = th.dataset.sort;
    if (!type) return;
    const button = document.createElement("button");
    button.type = "button";
    button.append(...th.childNodes);
    const mark = document.createElement("span");
    mark.className = "sort-mark";
    mark.setAttribute("aria-hidden", "true");
    button.append(mark);
    th.append(button);
    button.addEventListener("click", () => sortTable(table, th, column, type, status));
  });
}

function sortTable(table, th, column, type, status) {
  const current = th.getAttribute("aria-sort");
  // Numbers read best largest first, names from A.
  const first = type === "number" ? "descending" : "ascending";
  const direction = current === first ? (first === "ascending" ? "descending" : "ascending") : first;
  for (const other of table.tHead.rows[0].cells) other.removeAttribute("aria-sort");
  th.setAttribute("aria-sort", direction);
  const body = table.tBodies[0];
  const rows = Array.from(body.rows).filter((row) => row.cells.length > column);
  const value = (row) => {
    const cell = row.cells[column];
    const raw = cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent.trim();
    return type === "number" ? (raw === "" ? NaN : Number(raw)) : raw;
  };
  const sign = direction === "ascending" ? 1 : -1;
  rows.sort((a, b) => {
    const x = value(a);
    const y = value(b);
    if (type === "number") {
      // Rows without a value stay at the bottom whichever way the column is sorted.
      if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) - Number.isNaN(y);
      return sign * (x - y);
    }
    return sign * x.localeCompare(y, undefined, { sensitivity: "base", numeric: true });
  });
  body.append(...rows);
  status.textContent = `Sorted by ${th.textContent.trim()}, ${direction}.`;
}

// Overview -------------------------------------------------------------------------------

function drawOverview(charts) {
  const matrix = document.getElementById("chart-matrix");
  if (matrix) {
    const mode = document.getElementById("matrix-mode");
    drawMatrix(matrix, charts.matrix, mode.value);
    mode.addEventListener("change", () => drawMatrix(matrix, charts.matrix, mode.value));
    redrawOnResize(() => drawMatrix(matrix, charts.matrix, mode.value));
  }
  const directions = document.getElementById("chart-directions");
  if (directions) {
    drawDirections(directions, charts.directions);
    redrawOnResize(() => drawDirections(directions, charts.directions));
  }
  const distribution = document.getElementById("chart-distribution");
  const metric = document.getElementById("distribution-metric");
  if (distribution && metric && metric.value) {
    drawDistribution(distribution, charts.distributions[metric.value]);
    metric.addEventListener("change", () => {
      drawDistribution(distribution, charts.distributions[metric.value]);
    });
  }
  const activity = document.getElementById("chart-activity");
  const structure = document.getElementById("chart-structure");
  const timelines = () => {
    if (activity) drawActivity(activity, charts.timeline);
    if (structure) drawStructure(structure, charts.timeline);
  };
  timelines();
  redrawOnResize(timelines);
}

const RATIO_LABELS = ["⅛×", "¼×", "½×", "1×", "2×", "4×", "8×"];

function drawMatrix(element, matrix, mode) {
  const names = matrix.departments;
  if (names.length === 0) {
    element.textContent = "No department is large enough to show.";
    return;
  }
  // Colour by log2 of the ratio, so "half as much" and "twice as much" sit equally far from
  // white; cells with nothing expected (a department without interactions) stay empty.
  const ratio = matrix.ratio.map((row, i) => row.map((value, j) => {
    if (matrix.expected[i][j] <= 0) return null;
    return value > 0 ? Math.max(-3, Math.min(3, Math.log2(value))) : -3;
  }));
  const z = mode === "ratio" ? ratio : matrix[mode];
  const custom = names.map((from, i) => names.map((to, j) => [
    from, to, Math.round(matrix.observed[i][j]), matrix.expected[i][j].toFixed(1),
    matrix.expected[i][j] > 0 ? matrix.ratio[i][j].toFixed(2) : "—",
  ]));
  const longest = Math.max(...names.map((name) => name.length));
  const trace = {
    type: "heatmap",
    x: names,
    y: names,
    z,
    customdata: custom,
    hovertemplate: "From %{customdata[0]} to %{customdata[1]}<br>observed %{customdata[2]}, "
      + "expected %{customdata[3]}<br>ratio %{customdata[4]}<extra></extra>",
    xgap: 1,
    ygap: 1,
  };
  // plotly's own colour bar sets inline styles, which the CSP refuses: the key is the HTML
  // below the chart, kept in step with the colours here.
  trace.showscale = false;
  if (mode === "ratio") {
    Object.assign(trace, {
      zmin: -3, zmax: 3, zmid: 0,
      colorscale: [[0, "#2166ac"], [0.35, "#92c5de"], [0.5, "#f7f7f7"], [0.65, "#f4a582"],
        [1, "#b2182b"]],
    });
    setMatrixKey("ratio", RATIO_LABELS);
  } else {
    const top = Math.max(1, ...z.flat());
    Object.assign(trace, {
      zmin: 0, zmax: top,
      colorscale: [[0, "#f7fbff"], [0.5, "#6baed6"], [1, "#08306b"]],
    });
    setMatrixKey("sequential", [0, 0.25, 0.5, 0.75, 1].map((share) => round(share * top)));
  }
  // Rows are "from", columns "to", with the column names on top as in a printed matrix.
  const labels = Math.min(220, 6.5 * longest + 16);
  // Slanted column names need about their own width; on a phone the columns are narrower than
  // that and the names run into each other, so they stand upright there.
  const upright = narrow(element);
  window.Plotly.react(element, [trace], layout({
    height: Math.max(300, (upright ? 32 : 40) * names.length + labels + 24),
    margin: { l: 8, r: 8, t: 16, b: 16 },
    xaxis: { side: "top", tickangle: upright ? -90 : -35, automargin: true, fixedrange: true },
    yaxis: { autorange: "reversed", automargin: true, fixedrange: true },
  }), CONFIG);
}

function setMatrixKey(kind, labels) {
  const bar = document.getElementById("matrix-key-bar");
  const list = document.getElementById("matrix-key-labels");
  if (!bar || !list) return;
  bar.className = `key-bar ${kind}`;
  list.replaceChildren(...labels.map((label) => {
    const item = document.createElement("span");
    item.textContent = label;
    return item;
  }));
}

function drawDirections(element, directions) {
  const shown = directions.filter((d) => d.share !== null);
  window.Plotly.react(element, [{
    type: "bar",
    orientation: "h",
    y: shown.map((d) => d.label),
    x: shown.map((d) => d.share * 100),
    text: shown.map((d) => percent(d.share)),
    textposition: "auto",
    marker: { color: ACCENT },
    hovertemplate: "%{y}: %{text}<extra></extra>",
  }], layout({
    height: 250,
    margin: { l: 8, r: 16, t: 8, b: 40 },
    xaxis: {
      title: { text: narrow(element) ? "% of interactions" : "share of interactions (%)" },
      range: [0, 100],
      fixedrange: true,
    },
    yaxis: { autorange: "reversed", automargin: true, fixedrange: true },
  }), CONFIG);
}

function drawDistribution(element, histogram) {
  if (!histogram || histogram.counts.length === 0) {
    element.textContent = "No values to show.";
    return;
  }
  const edges = histogram.edges;
  const centres = histogram.counts.map((_, i) => (edges[i] + edges[i + 1]) / 2);
  const widths = histogram.counts.map((_, i) => edges[i + 1] - edges[i]);
  const ranges = histogram.counts.map((_, i) => `${round(edges[i])} to ${round(edges[i + 1])}`);
  window.Plotly.react(element, [{
    type: "bar",
    x: centres,
    y: histogram.counts,
    width: widths.map((w) => w * 0.92),
    customdata: ranges,
    marker: { color: ACCENT },
    hovertemplate: "%{customdata}: %{y} people<extra></extra>",
  }], layout({
    height: 320,
    xaxis: { title: { text: histogram.label } },
    yaxis: { title: { text: "people" }, rangemode: "tozero" },
    bargap: 0,
  }), CONFIG);
}

function round(value) {
  const magnitude = Math.abs(value);
  if (magnitude >= 100) return value.toFixed(0);
  if (magnitude >= 1) return value.toFixed(1);
  return value.toPrecision(2);
}

function silosMarks(timeline) {
  const shapes = [];
  const annotations = [];
  timeline.silos.forEach((names, i) => {
    if (names.length === 0) return;
    shapes.push({
      type: "line", xref: "x", yref: "paper", x0: timeline.start[i], x1: timeline.start[i],
      y0: 0, y1: 1, line: { color: "#b42318", dash: "dot", width: 1.5 },
    });
    annotations.push({
      x: timeline.start[i], y: 1, xref: "x", yref: "paper", yanchor: "bottom",
      text: `silo: ${names.join(", ")}`, showarrow: false, font: { color: "#b42318", size: 11 },
    });
  });
  return { shapes, annotations };
}

// The lines' names come with the data, so the page's caption and the legend agree.
function timelineAxis(element) {
  return narrow(element) ? { nticks: 4 } : {};
}

function timelineLine(timeline, key, color, dash) {
  return {
    type: "scatter", mode: "lines+markers", name: timeline.labels[key], x: timeline.start,
    y: timeline[key], line: { color, dash: dash || "solid", width: 2 }, marker: { size: 5 },
  };
}

function drawActivity(element, timeline) {
  const line = (key, color, dash) => timelineLine(timeline, key, color, dash);
  window.Plotly.react(element, [
    line("interactions", ACCENT),
    line("ties", "#d97706"),
    line("active_people", "#1b7a43", "dot"),
  ], layout({
    height: 320,
    margin: { l: 56, r: 16, t: 28, b: 48 },
    legend: { orientation: "h", y: -0.2 },
    xaxis: timelineAxis(element),
    yaxis: { rangemode: "tozero" },
    ...silosMarks(timeline),
  }), CONFIG);
}

function drawStructure(element, timeline) {
  const line = (key, color, dash) => timelineLine(timeline, key, color, dash);
  window.Plotly.react(element, [
    line("ei_index", ACCENT),
    line("department_modularity", "#7c3aed"),
    line("churn", MUTED, "dot"),
  ], layout({
    height: 320,
    margin: { l: 56, r: 16, t: 28, b: 48 },
    legend: { orientation: "h", y: -0.2 },
    xaxis: timelineAxis(element),
    yaxis: { range: [-1, 1], zeroline: true },
    ...silosMarks(timeline),
  }), CONFIG);
}

// A person's neighbourhood ---------------------------------------------------------------

function drawPerson(person) {
  const byDepartment = document.getElementById("chart-by-department");
  // Every department the person has ties into (the drawing shows only the strongest ties).
  const departments = person.by_department.map((row) => row[0]).sort();
  const colour = (name) => PALETTE[departments.indexOf(name) % PALETTE.length];
  if (byDepartment) {
    const rows = person.by_department;
    window.Plotly.react(byDepartment, [{
      type: "bar", orientation: "h", y: rows.map((r) => r[0]), x: rows.map((r) => r[1]),
      marker: { color: rows.map((r) => colour(r[0])) },
      hovertemplate: "%{y}: %{x} ties<extra></extra>",
    }], layout({
      height: Math.max(160, 28 * rows.length + 60),
      margin: { l: 8, r: 16, t: 8, b: 36 },
      xaxis: { title: { text: "ties" }, rangemode: "tozero", tickformat: "d" },
      yaxis: { autorange: "reversed", automargin: true },
    }), CONFIG);
  }
  const ego = document.getElementById("chart-ego");
  if (ego) {
    drawEgo(ego, person.ego, colour);
    redrawOnResize(() => drawEgo(ego, person.ego, colour));
  }
}

function drawEgo(element, ego, colour) {
  const [centre, ...others] = ego.nodes;
  if (others.length === 0) {
    element.textContent = "No ties in the period.";
    return;
  }
  // Neighbours on a circle, grouped by department, so the groups a broker joins show as arcs
  // with few lines between them.
  others.sort((a, b) => a.department.localeCompare(b.department) || b.weight - a.weight);
  const where = new Map([[centre.index, [0, 0]]]);
  others.forEach((node, i) => {
    const angle = (2 * Math.PI * i) / others.length;
    where.set(node.index, [Math.cos(angle), Math.sin(angle)]);
  });
  const segments = (pairs) => {
    const x = [];
    const y = [];
    for (const [a, b] of pairs) {
      x.push(where.get(a)[0], where.get(b)[0], null);
      y.push(where.get(a)[1], where.get(b)[1], null);
    }
    return { x, y };
  };
  const among = ego.edges.filter(([u, v]) => u !== centre.index && v !== centre.index);
  const traces = [
    { type: "scatter", mode: "lines", hoverinfo: "skip", showlegend: false,
      line: { color: "#c5ccd8", width: 1 }, ...segments(among.map(([u, v]) => [u, v])) },
    { type: "scatter", mode: "lines", hoverinfo: "skip", showlegend: false,
      line: { color: "rgba(47, 91, 211, 0.35)", width: 1.5 },
      ...segments(others.map((n) => [centre.index, n.index])) },
  ];
  const strongest = Math.max(...others.map((n) => n.weight));
  for (const department of [...new Set(others.map((n) => n.department))]) {
    const nodes = others.filter((n) => n.department === department);
    traces.push({
      type: "scatter", mode: "markers", name: department,
      x: nodes.map((n) => where.get(n.index)[0]), y: nodes.map((n) => where.get(n.index)[1]),
      text: nodes.map((n) => n.label), customdata: nodes.map((n) => n.weight),
      marker: { color: colour(department), size: nodes.map((n) => 8 + 14 * Math.sqrt(n.weight / strongest)),
        line: { color: "#fff", width: 1 } },
      hovertemplate: `%{text}<br>${department}<br>%{customdata} interactions<extra></extra>`,
    });
  }
  traces.push({
    type: "scatter", mode: "markers+text", name: centre.label, x: [0], y: [0],
    text: [centre.label], textposition: "bottom center", showlegend: false,
    marker: { color: INK, size: 22, line: { color: "#fff", width: 2 } },
    hovertemplate: `${centre.label}<extra></extra>`,
  });
  const hidden = { visible: false, range: [-1.25, 1.25] };
  // On a phone a legend beside the circle would leave it a thumbnail: it goes below instead.
  const small = narrow(element);
  const departments = new Set(others.map((n) => n.department)).size;
  window.Plotly.react(element, traces, layout({
    height: small ? element.clientWidth + 40 + 20 * departments : 540,
    margin: { l: 8, r: 8, t: 8, b: 8 },
    xaxis: hidden,
    yaxis: { ...hidden, scaleanchor: "x" },
    legend: small
      ? { title: { text: "Department", side: "top" }, orientation: "h", x: 0, y: 0, yanchor: "top" }
      : { title: { text: "Department" } },
    hovermode: "closest",
  }), CONFIG);
}
