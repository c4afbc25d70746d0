// Statistics: the research data warehouse's standard tables (the public project `dwh-standard`)
// as charts, for anyone signed in — a citizen or an employer's staff. The tables come from
// GET /warehouse/v1/projects/dwh-standard/tables (ListTables, every page) and
// GET /warehouse/v1/projects/dwh-standard/quarters/{year}Q{q}/tables/{table} (GetTable).
//
// Each chart is an inline SVG built here (createElementNS, classes only: the CSP forbids inline
// styles), `role="img"` with a title and a description, and the same figures are in a real table
// below it — the accessible alternative. A suppressed cell has no value: it is drawn as a hatched
// marker with ✕ and written "Suppressed" in the table, never estimated. A combination without
// anyone in work is absent from the warehouse's table, so it has no bar and no row.

import {
  t, tOr, applyStatic, bindLanguageSwitch, setLanguage, preferredLanguage, onLanguageChange,
  formatMoney, formatMoneyCompact, formatNumber, formatOnss,
} from "./i18n.js";
import { api } from "./api.js";
import { requireAnySession, homeFor, signOut } from "./session.js";
import { el, showError } from "./ui.js";

const PROJECT = "dwh-standard";
const MAX_QUARTERS = 8; // the charts over quarters show the latest eight
const NAME = /^projects\/([a-z0-9-]+)\/quarters\/(\d{4})Q([1-4])\/tables\/([a-z_]+)$/;
const SVG = "http://www.w3.org/2000/svg";

// The warehouse's categories (services/warehouse/service/categories.py), in reading order;
// anything else follows, sorted.
const ORDER = {
  region: ["BRUSSELS", "FLANDERS", "WALLONIA", "ABROAD", "UNKNOWN"],
  age_band: ["<25", "25-34", "35-44", "45-54", "55-64", "65+", "UNKNOWN"],
  worker_class: ["BLUE_COLLAR", "WHITE_COLLAR", "STUDENT", "FLEXI", "UNKNOWN"],
  sex: ["MALE", "FEMALE", "UNKNOWN"],
  joint_committee: [],
};

const claims = requireAnySession();
const $ = (id) => document.getElementById(id);
const state = {
  quarters: [], // ["2025Q1", ...], oldest first, the latest MAX_QUARTERS
  listed: new Map(), // quarter -> Map(table id -> summary)
  tables: new Map(), // table name -> table with its cells
  failed: new Map(), // section -> error
  quarter: "", // the detailed charts' quarter
  metric: "persons",
  ready: false,
};

// --- labels ---------------------------------------------------------------------------------

function quarterLabel(quarter) {
  const m = /^(\d{4})Q([1-4])$/.exec(quarter);
  return m ? t("stats.quarter", { year: m[1], q: m[2] }) : quarter;
}

function categoryLabel(dimension, code) {
  if (dimension === "joint_committee") {
    if (/^[0-9]{3}(\.[0-9]{2})?$/.test(code)) {
      const name = tOr("stats.cat.joint_committee", code, "");
      return name ? `${code} — ${name}` : t("stats.jc_other", { code });
    }
    return tOr("stats.cat.joint_committee", code, code);
  }
  return tOr(`stats.cat.${dimension}`, code, code);
}

// A short label for a chart's axis: the joint committee's number only.
function shortLabel(dimension, code) {
  if (dimension === "joint_committee") return tOr("stats.cat.jc_short", code, code);
  return categoryLabel(dimension, code);
}

function ordered(dimension, codes) {
  const known = ORDER[dimension] || [];
  const rest = [...codes].filter((c) => !known.includes(c)).sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  return known.filter((c) => codes.has(c)).concat(rest);
}

// --- data -----------------------------------------------------------------------------------

function cellOf(raw) {
  const suppressed = Boolean(raw.suppressed);
  return {
    categories: (raw.categories || []).map(String),
    suppressed,
    // int64 arrives as a JSON string; a suppressed cell has no value at all.
    persons: suppressed || raw.persons === undefined ? null : Number(raw.persons),
    pay: suppressed || raw.pay === undefined ? null : Number(raw.pay),
  };
}

async function listTables() {
  const found = [];
  let pageToken = "";
  for (let page = 0; page < 100; page += 1) {
    const params = new URLSearchParams({ page_size: "1000" });
    if (pageToken) params.set("page_token", pageToken);
    const reply = await api("GET", `/warehouse/v1/projects/${PROJECT}/tables?${params}`);
    found.push(...(reply.tables || []));
    pageToken = reply.next_page_token || "";
    if (!pageToken) break;
  }
  return found;
}

function tableName(quarter, id) {
  return `projects/${PROJECT}/quarters/${quarter}/tables/${id}`;
}

async function getTable(quarter, id) {
  const name = tableName(quarter, id);
  if (!NAME.test(name)) throw new Error(`not a table name: ${name}`);
  if (!state.tables.has(name)) {
    const reply = await api("GET", `/warehouse/v1/${name}`);
    const table = reply.table || {};
    state.tables.set(name, { ...table, cells: (table.cells || []).map(cellOf) });
  }
  return state.tables.get(name);
}

function loaded(quarter, id) {
  return state.tables.get(tableName(quarter, id));
}

// The quarters whose listing has this table, among those shown.
function quartersWith(id) {
  return state.quarters.filter((q) => state.listed.get(q)?.has(id));
}

// --- the chart ------------------------------------------------------------------------------

let chartCount = 0;

function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null) continue;
    node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function niceStep(max, ticks = 4) {
  const raw = max / ticks;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * power).find((s) => s >= raw);
  return step || power * 10;
}

// Splits a label into at most three lines of about `chars` characters (the table has it whole).
function wrap(label, chars) {
  const words = String(label).split(/\s+/).filter(Boolean);
  const lines = [];
  for (const word of words) {
    const last = lines[lines.length - 1];
    if (last !== undefined && (last + " " + word).length <= chars) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  if (lines.length > 3) {
    lines.length = 3;
    lines[2] = `${lines[2]}…`;
  }
  return lines.map((line) => (line.length > chars + 2 ? `${line.slice(0, chars)}…` : line));
}

function metricValue(cell) {
  return state.metric === "pay" ? cell.pay : cell.persons;
}

function formatMetric(value, compact = false) {
  if (state.metric === "pay") return compact ? formatMoneyCompact(value) : formatMoney(value);
  return formatNumber(value);
}

// What a cell says in words (a bar's tooltip, and the test's reading of the chart).
function cellText(cell) {
  if (cell.suppressed) return t("stats.suppressed");
  return `${formatNumber(cell.persons)} ${t("stats.persons_unit")} · ${formatMoney(cell.pay)}`;
}

// A grouped bar chart: `groups` along the x axis, one bar per series in each group (a fixed
// slot, so a series keeps its place), one bar or marker per entry {group, series, cell, quarter,
// name} — a cell of a warehouse table.
function barChart({ id, title, description, groups, series, entries }) {
  chartCount += 1;
  const uid = `chart-${id}-${chartCount}`;
  const barW = 22;
  const barGap = 3;
  const groupGap = 26;
  const left = 76;
  const right = 12;
  const top = 28;
  const plotH = 200;
  const groupW = series.length * barW + (series.length - 1) * barGap;
  const slot = Math.max(groupW, 70);
  const chars = Math.max(8, Math.floor(slot / 6.8));
  const labels = groups.map((g) => wrap(g.label, chars));
  const labelLines = Math.max(1, ...labels.map((l) => l.length));
  const bottom = 14 + labelLines * 15;
  const plotW = Math.max(groups.length * slot + (groups.length - 1) * groupGap + 16, 200);
  const width = left + plotW + right;
  const height = top + plotH + bottom;
  const values = entries.filter((e) => !e.cell.suppressed).map((e) => metricValue(e.cell));
  const max = Math.max(0, ...values);
  const step = max > 0 ? niceStep(max) : 1;
  const ceiling = max > 0 ? Math.ceil(max / step) * step : 4;
  const y = (value) => top + plotH - (value / ceiling) * plotH;
  const baseline = top + plotH;
  const startX = left + 8 + Math.max(0, (plotW - 16 - (groups.length * slot + (groups.length - 1) * groupGap)) / 2);
  const groupX = (index) => startX + index * (slot + groupGap);
  const barX = (g, s) => groupX(g) + (slot - groupW) / 2 + s * (barW + barGap);
  const valueLabels = entries.length <= 16;

  const hatch = `${uid}-hatch`;
  const defs = svg(
    "defs",
    {},
    svg(
      "pattern",
      { id: hatch, width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" },
      svg("rect", { width: 6, height: 6, class: "hatch-back" }),
      svg("line", { x1: 0, y1: 0, x2: 0, y2: 6, class: "hatch-line" }),
    ),
  );
  const grid = [];
  if (max > 0) {
    for (let value = 0; value <= ceiling + step / 2; value += step) {
      grid.push(svg("line", { x1: left, x2: left + plotW, y1: y(value), y2: y(value), class: value === 0 ? "axis" : "grid" }));
      grid.push(svg("text", { x: left - 6, y: y(value) + 4, class: "tick", "text-anchor": "end" }, formatMetric(value, true)));
    }
  } else {
    grid.push(svg("line", { x1: left, x2: left + plotW, y1: baseline, y2: baseline, class: "axis" }));
    grid.push(svg("text", { x: left + plotW / 2, y: top + plotH / 2, class: "empty", "text-anchor": "middle" }, t("stats.all_suppressed")));
  }
  const axisTitle = svg("text", { x: 4, y: 14, class: "axis-title" }, state.metric === "pay" ? t("stats.metric.pay") : t("stats.metric.persons"));

  const bars = entries.map((entry) => {
    const { cell } = entry;
    const x = barX(entry.group, entry.series);
    const common = {
      "data-cell": "",
      "data-quarter": entry.quarter,
      "data-table": entry.table,
      "data-categories": cell.categories.join("|"),
      "data-suppressed": String(cell.suppressed),
    };
    const tip = svg("title", {}, `${entry.name}: ${cellText(cell)}`);
    if (cell.suppressed) {
      const size = 14;
      return svg(
        "g",
        { class: "cell" },
        svg("rect", { ...common, x, y: baseline - size, width: barW, height: size, fill: `url(#${hatch})`, class: `marker suppressed s-${entry.series % 5}` }, tip),
        svg("text", { x: x + barW / 2, y: baseline - size - 5, class: "mark", "text-anchor": "middle" }, "✕"),
      );
    }
    const value = metricValue(cell);
    const top_ = Math.min(y(value), baseline - 1);
    return svg(
      "g",
      { class: "cell" },
      svg("rect", { ...common, "data-persons": cell.persons, "data-pay": cell.pay, x, y: top_, width: barW, height: baseline - top_, class: `bar series-${entry.series % 5}` }, tip),
      valueLabels
        ? svg("text", { x: x + barW / 2, y: top_ - 5, class: "value", "text-anchor": "middle" }, formatMetric(value, true))
        : null,
    );
  });

  const xLabels = groups.map((group, index) =>
    svg(
      "text",
      { x: groupX(index) + slot / 2, y: baseline + 18, class: "group-label", "text-anchor": "middle" },
      labels[index].map((line, n) => svg("tspan", { x: groupX(index) + slot / 2, dy: n === 0 ? 0 : 15 }, line)),
    ),
  );

  const chart = svg(
    "svg",
    {
      class: "chart",
      role: "img",
      width,
      height,
      viewBox: `0 0 ${width} ${height}`,
      "aria-labelledby": `${uid}-title ${uid}-desc`,
      focusable: "false",
      "data-chart": id,
    },
    svg("title", { id: `${uid}-title` }, title),
    svg("desc", { id: `${uid}-desc` }, description),
    defs,
    grid,
    axisTitle,
    bars,
    xLabels,
  );
  return el("div", { class: "chart-wrap", tabindex: "0", role: "group", "aria-label": t("stats.chart_region", { title }) }, chart);
}

function legend(series, anySuppressed) {
  const items = series.length
    ? series.map((s, index) => el("li", {}, el("span", { class: `swatch series-${index % 5}`, "aria-hidden": "true" }), s.label))
    : [];
  if (anySuppressed) {
    items.push(el("li", {}, el("span", { class: "swatch suppressed", "aria-hidden": "true" }), `✕ ${t("stats.suppressed_legend")}`));
  }
  return items.length ? el("ul", { class: "legend" }, items) : null;
}

// "Suppressed: fewer than N persons or …", with each table's own threshold and percent.
function suppressionNote(tables) {
  const rules = new Map();
  for (const table of tables) {
    if (!table.cells.some((c) => c.suppressed)) continue;
    const key = `${table.threshold}/${table.dominance_percent}`;
    rules.set(key, { threshold: table.threshold, percent: table.dominance_percent });
  }
  return [...rules.values()].map((rule) =>
    el("p", { class: "suppressed-note" }, t("stats.suppressed_note", { threshold: formatNumber(rule.threshold), percent: formatNumber(rule.percent) })),
  );
}

// --- the table beside each chart -------------------------------------------------------------

function dataTable(caption, dimensions, entries, withQuarter) {
  const columns = [];
  if (withQuarter) columns.push({ label: t("stats.col.quarter") });
  for (const dimension of dimensions) columns.push({ label: t(`stats.dim.${dimension}`) });
  const figures = [t("stats.col.persons"), t("stats.col.pay"), t("stats.col.average")];
  const head = el("tr", {}, columns.map((c) => el("th", { scope: "col", text: c.label })), figures.map((label) => el("th", { scope: "col", class: "num", text: label })));
  const rows = entries.map((entry) => {
    const { cell } = entry;
    const cells = [];
    if (withQuarter) cells.push(el("th", { scope: "row", "data-label": columns[0].label, text: quarterLabel(entry.quarter) }));
    dimensions.forEach((dimension, index) => {
      const label = categoryLabel(dimension, cell.categories[index]);
      const column = columns[index + (withQuarter ? 1 : 0)].label;
      cells.push(!withQuarter && index === 0 ? el("th", { scope: "row", "data-label": column, text: label }) : el("td", { "data-label": column, text: label }));
    });
    const suppressed = () => el("span", { class: "suppressed-text" }, "✕ ", t("stats.suppressed"));
    if (cell.suppressed) {
      for (const label of figures) cells.push(el("td", { class: "num suppressed", "data-label": label }, suppressed()));
    } else {
      const average = cell.persons > 0 ? formatMoney(Math.round(cell.pay / cell.persons)) : "—";
      cells.push(el("td", { class: "num", "data-label": figures[0], "data-field": "persons", text: formatNumber(cell.persons) }));
      cells.push(el("td", { class: "num", "data-label": figures[1], "data-field": "pay", text: formatMoney(cell.pay) }));
      cells.push(el("td", { class: "num", "data-label": figures[2], "data-field": "average", text: average }));
    }
    return el("tr", {
      "data-quarter": entry.quarter,
      "data-table": entry.table,
      "data-categories": cell.categories.join("|"),
      "data-suppressed": String(cell.suppressed),
    }, cells);
  });
  if (!rows.length) return el("p", { class: "muted", text: t("stats.empty") });
  return el("div", { class: "table-wrap" }, el("table", { class: "stack stats-table" }, el("caption", { text: caption }), el("thead", {}, head), el("tbody", {}, rows)));
}

// --- the sections -----------------------------------------------------------------------------

function range(quarters) {
  if (!quarters.length) return "";
  if (quarters.length === 1) return quarterLabel(quarters[0]);
  return t("stats.range", { first: quarterLabel(quarters[0]), last: quarterLabel(quarters[quarters.length - 1]) });
}

function description(what, when, entries) {
  return t("stats.chart_desc", {
    what,
    when,
    bars: formatNumber(entries.length),
    suppressed: formatNumber(entries.filter((e) => e.cell.suppressed).length),
  });
}

function metricName() {
  return state.metric === "pay" ? t("stats.metric.pay") : t("stats.metric.persons");
}

// A table over the quarters shown (total, region): quarters on the x axis, a series per category.
function overQuarters(section, id, dimension) {
  const quarters = quartersWith(id).filter((q) => loaded(q, id));
  const tables = quarters.map((q) => loaded(q, id));
  const codes = new Set();
  for (const table of tables) for (const cell of table.cells) if (dimension) codes.add(cell.categories[0]);
  const series = dimension ? ordered(dimension, codes).map((code) => ({ code, label: categoryLabel(dimension, code) })) : [{ code: "", label: t("stats.total.series") }];
  const entries = [];
  quarters.forEach((quarter, g) => {
    const table = loaded(quarter, id);
    const sorted = [...table.cells].sort((a, b) => series.findIndex((s) => s.code === (a.categories[0] ?? "")) - series.findIndex((s) => s.code === (b.categories[0] ?? "")));
    for (const cell of sorted) {
      const s = dimension ? series.findIndex((x) => x.code === cell.categories[0]) : 0;
      const name = dimension ? `${series[s].label}, ${quarterLabel(quarter)}` : quarterLabel(quarter);
      entries.push({ group: g, series: s, cell, quarter, table: id, name });
    }
  });
  const title = t(`stats.${section}.chart`, { metric: metricName() });
  const when = range(quarters);
  render(section, {
    intro: t(`stats.${section}.intro`, { range: when }),
    chart: barChart({
      id: section,
      title,
      description: description(title, when, entries),
      groups: quarters.map((q) => ({ label: quarterLabel(q) })),
      series,
      entries,
    }),
    legend: legend(dimension ? series : [], entries.some((e) => e.cell.suppressed)),
    notes: suppressionNote(tables),
    table: dataTable(t(`stats.${section}.caption`, { range: when }), dimension ? [dimension] : [], entries, true),
  });
}

// A table of the chosen quarter: groups along the first dimension, a series per category of
// the second (if any).
function ofQuarter(section, id, dimensions) {
  const quarter = state.quarter;
  const table = loaded(quarter, id);
  if (!table) {
    $(`${section}-intro`).textContent = t(`stats.${section}.intro`, { quarter: quarterLabel(quarter) });
    $(`${section}-body`).replaceChildren(el("p", { class: "muted", text: t("stats.empty") }));
    $(section).hidden = false;
    return;
  }
  const [first, second] = dimensions;
  const groupCodes = ordered(first, new Set(table.cells.map((c) => c.categories[0])));
  const seriesCodes = second ? ordered(second, new Set(table.cells.map((c) => c.categories[1]))) : [""];
  const series = seriesCodes.map((code) => ({ code, label: second ? categoryLabel(second, code) : t("stats.total.series") }));
  const entries = [];
  for (const [g, code] of groupCodes.entries()) {
    for (const [s, sCode] of seriesCodes.entries()) {
      const cell = table.cells.find((c) => c.categories[0] === code && (!second || c.categories[1] === sCode));
      if (!cell) continue;
      const name = [categoryLabel(first, code), second ? categoryLabel(second, sCode) : null, quarterLabel(quarter)].filter(Boolean).join(", ");
      entries.push({ group: g, series: s, cell, quarter, table: id, name });
    }
  }
  const title = t(`stats.${section}.chart`, { metric: metricName(), quarter: quarterLabel(quarter) });
  render(section, {
    intro: t(`stats.${section}.intro`, { quarter: quarterLabel(quarter) }),
    chart: barChart({
      id: section,
      title,
      description: description(title, quarterLabel(quarter), entries),
      groups: groupCodes.map((code) => ({ label: shortLabel(first, code) })),
      series,
      entries,
    }),
    legend: legend(second ? series : [], entries.some((e) => e.cell.suppressed)),
    notes: suppressionNote([table]),
    table: dataTable(t(`stats.${section}.caption`, { quarter: quarterLabel(quarter) }), dimensions, entries, false),
  });
}

function render(section, { intro, chart, legend: key, notes, table }) {
  $(`${section}-intro`).textContent = intro;
  $(`${section}-body`).replaceChildren(...[chart, key, ...notes, table].filter(Boolean));
  $(section).hidden = false;
}

const OVER_QUARTERS = [
  ["total", "total", null],
  ["region", "region", "region"],
];
const OF_QUARTER = [
  ["age", "age_band", ["age_band"]],
  ["class_sex", "class_sex", ["worker_class", "sex"]],
  ["jc", "joint_committee", ["joint_committee"]],
];

function renderAll() {
  if (!state.ready) return;
  renderQuarterChoice();
  for (const [section, id, dimension] of OVER_QUARTERS) {
    if (!state.failed.has(section)) overQuarters(section, id, dimension);
  }
  for (const [section, id, dimensions] of OF_QUARTER) {
    if (!state.failed.has(section)) ofQuarter(section, id, dimensions);
  }
  const [before, after] = t("stats.api", { path: "\u0000" }).split("\u0000");
  const path = `GET /warehouse/v1/projects/${PROJECT}/quarters/{year}Q{q}/tables/jc_class_age_sex_region`;
  $("stats-api").replaceChildren(before, el("code", { class: "path", text: path }), after ?? "");
  $("stats-api").hidden = false;
}

function renderQuarterChoice() {
  const select = $("stats-quarter");
  select.replaceChildren(...[...state.quarters].reverse().map((q) => el("option", { value: q, text: quarterLabel(q) })));
  select.value = state.quarter;
}

// --- loading ----------------------------------------------------------------------------------

async function loadSection(section, loads) {
  $(`${section}-error`).replaceChildren();
  state.failed.delete(section);
  try {
    await Promise.all(loads);
  } catch (error) {
    state.failed.set(section, error);
    $(`${section}-body`).replaceChildren();
    $(section).hidden = false;
    showError($(`${section}-error`), error);
  }
}

async function loadQuarter() {
  await Promise.all(
    OF_QUARTER.map(([section, id]) => loadSection(section, state.listed.get(state.quarter)?.has(id) ? [getTable(state.quarter, id)] : [])),
  );
}

async function load() {
  const status = $("stats-status");
  status.replaceChildren(el("p", { class: "muted", text: t("stats.loading") }));
  $("stats-error").replaceChildren();
  let listing;
  try {
    listing = await listTables();
  } catch (error) {
    status.replaceChildren();
    showError($("stats-error"), error);
    return;
  }
  for (const table of listing) {
    const m = NAME.exec(String(table.name || ""));
    if (!m || m[1] !== PROJECT) continue;
    const quarter = `${m[2]}Q${m[3]}`;
    if (!state.listed.has(quarter)) state.listed.set(quarter, new Map());
    state.listed.get(quarter).set(m[4], table);
  }
  state.quarters = [...state.listed.keys()].sort().slice(-MAX_QUARTERS);
  if (!state.quarters.length) {
    status.replaceChildren(el("p", { class: "notice info", text: t("stats.none") }));
    return;
  }
  state.quarter = state.quarters[state.quarters.length - 1];
  await Promise.all([
    ...OVER_QUARTERS.map(([section, id]) => loadSection(section, quartersWith(id).map((q) => getTable(q, id)))),
    loadQuarter(),
  ]);
  state.ready = true;
  $("stats-controls").hidden = false;
  renderAll();
  status.replaceChildren(el("p", { class: "visually-hidden", text: t("stats.loaded", { range: range(state.quarters) }) }));
}

// --- the page ---------------------------------------------------------------------------------

function who() {
  if (claims.employer) {
    return [
      el("strong", { text: claims.name }),
      " — ",
      `${claims.employer_name || ""} (${formatOnss(claims.employer)})`,
      " — ",
      el("span", { class: "role", text: t("employer.role", { role: t(`role.${claims.role}`) }) }),
    ];
  }
  return [el("strong", { text: claims.name }), " — ", t("citizen.signed_in_as_citizen")];
}

async function start() {
  if (!claims) return;
  const home = $("home-link");
  home.href = homeFor(claims);
  home.dataset.i18n = claims.employer ? "employer.title" : "citizen.title";
  await setLanguage(preferredLanguage());
  bindLanguageSwitch($("language"));
  $("sign-out").addEventListener("click", signOut);
  const showWho = () => $("who").replaceChildren(...who());
  showWho();
  onLanguageChange(() => {
    applyStatic();
    showWho();
    renderAll();
  });
  for (const radio of document.querySelectorAll('input[name="metric"]')) {
    radio.addEventListener("change", () => {
      state.metric = radio.value === "pay" ? "pay" : "persons";
      renderAll();
    });
  }
  $("stats-quarter").addEventListener("change", async (event) => {
    state.quarter = event.target.value;
    await loadQuarter();
    renderAll();
  });
  $("stats-controls").addEventListener("submit", (event) => event.preventDefault());
  await load();
}

start();
