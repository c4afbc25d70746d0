// The employer area: a person acting for the employer of the token's `employer` claim. Dimona
// IN/OUT with the answer and its anomalies explained; the employer's Dimona periods; its DmfA
// declarations; its DRS requests, the pre-filled form, and the attestation's delivery.
// A `reader` sees every form disabled (the services refuse READ_ONLY_ROLE anyway).

import { t, tOr, formatDate, formatTimestamp, formatMoney, formatNumber, formatInsz, formatOnss } from "./i18n.js";
import { api, ApiError } from "./api.js";
import { requireSession } from "./session.js";
import { el, table, facts, badge, notice, showError, clearInvalid, startPage, dateValue, timeValue, newReference } from "./ui.js";

const claims = requireSession("employer");
const onss = claims ? claims.employer : "";
const mayDeclare = claims ? claims.role === "declarant" : false;
const base = {
  dimona: `/dimona/v1/employers/${onss}`,
  dmfa: `/dmfa/v1/employers/${onss}`,
  drs: `/drs/v1/employers/${onss}`,
};
const $ = (id) => document.getElementById(id);

// What each section shows, kept so that a language change re-renders without calling again.
const state = {
  dimonaResult: null,
  periods: [],
  periodsToken: "",
  periodsLoaded: false,
  dmfa: null,
  tasks: null,
  drsDeclarations: null,
  prefill: null,
  drsResult: null,
};

function digits(text) {
  return String(text || "").replace(/[^0-9]/g, "");
}

const STATUS_KIND = {
  DECLARATION_STATUS_ACCEPTED: "ok",
  DECLARATION_STATUS_ACCEPTED_WITH_WARNINGS: "warn",
  DECLARATION_STATUS_REFUSED: "error",
  VERSION_STATUS_ACCEPTED: "ok",
  VERSION_STATUS_ACCEPTED_WITH_ANOMALIES: "warn",
  VERSION_STATUS_REFUSED: "error",
  ATTESTATION_STATUS_PENDING: "info",
  ATTESTATION_STATUS_DELIVERED: "ok",
  ATTESTATION_STATUS_ACKNOWLEDGED: "ok",
  ATTESTATION_STATUS_DEAD_LETTERED: "error",
};

// An institution's id ("onem") by its name in the current language; empty: the directory's.
function institution(id) {
  return id ? tOr("institution", id, id) : t("drs.destination_directory");
}

function statusBadge(status) {
  return badge(STATUS_KIND[status] || "info", tOr("status", status, status));
}

// An anomaly in plain language: its code's explanation (or the service's English label), the
// field it concerns and the value.
function anomalyItem(a) {
  const explanation = tOr("anomaly", a.code, a.label || a.code);
  const severity = a.severity === "SEVERITY_BLOCKING" ? t("anomaly.blocking") : t("anomaly.warning");
  const details = [];
  if (a.field) details.push(t("anomaly.field", { field: tOr("fieldname", a.field, a.field) }));
  if (a.value) details.push(t("anomaly.value", { value: a.value }));
  return el("li", { "data-code": a.code }, el("strong", { text: `${severity}: ` }), explanation, details.length ? el("span", { class: "muted", text: ` (${details.join("; ")})` }) : null);
}

function anomalyList(anomalies) {
  if (!anomalies || !anomalies.length) return null;
  return el("div", {}, el("p", { text: t("anomaly.title") }), el("ul", {}, anomalies.map(anomalyItem)));
}

// --- Dimona ---------------------------------------------------------------------------------

function dimonaAction() {
  return document.querySelector('input[name="action"]:checked').value;
}

function showDimonaFields() {
  const action = dimonaAction();
  $("in-fields").hidden = action !== "in";
  $("out-fields").hidden = action !== "out";
}

function workerTypeHint() {
  $("in-type-hint").textContent = t(`worker_type_hint.${$("in-type").value}`);
}

function dimonaRequest() {
  const reference = newReference("portal");
  if (dimonaAction() === "in") {
    const form = {
      worker: { insz: digits($("in-insz").value) },
      worker_type: $("in-type").value,
      start_date: dateValue($("in-start")),
    };
    if ($("in-jc").value.trim()) form.joint_committee = $("in-jc").value.trim().toUpperCase();
    if (timeValue($("in-start-time"))) form.start_time = timeValue($("in-start-time"));
    if (dateValue($("in-end"))) form.end_date = dateValue($("in-end"));
    if (timeValue($("in-end-time"))) form.end_time = timeValue($("in-end-time"));
    if ($("in-hours").value) form.planned_hours = Number($("in-hours").value);
    if ($("in-flexi").value) form.flexi_contract = $("in-flexi").value;
    return { declaration_reference: reference, dimona_in: form };
  }
  const form = { period_id: digits($("out-period").value), end_date: dateValue($("out-end")) };
  if (timeValue($("out-end-time"))) form.end_time = timeValue($("out-end-time"));
  if (digits($("out-insz").value)) form.insz = digits($("out-insz").value);
  return { declaration_reference: reference, dimona_out: form };
}

// What the browser can tell before sending: the required fields and the INSZ's 11 digits.
function dimonaMissing() {
  const missing = [];
  if (dimonaAction() === "in") {
    if (digits($("in-insz").value).length !== 11) missing.push($("in-insz"));
    if (!dateValue($("in-start"))) missing.push($("in-start"));
  } else {
    if (!digits($("out-period").value)) missing.push($("out-period"));
    if (!dateValue($("out-end"))) missing.push($("out-end"));
  }
  return missing;
}

function renderDimonaResult() {
  const region = $("dimona-result");
  const d = state.dimonaResult;
  if (!d) return;
  if (d instanceof ApiError) return showError(region, d, $("dimona-form"));
  const kind = STATUS_KIND[d.status] || "info";
  const title = t(`dimona.result.${d.status}`);
  const pairs = [
    [t("field.status"), statusBadge(d.status)],
    [t("field.action"), tOr("action", d.action, d.action)],
    [t("field.reference"), d.declaration_reference],
    [t("field.worker_insz"), formatInsz(d.worker_insz)],
  ];
  if (d.period_id && d.period_id !== "0") pairs.push([t("field.period_id"), String(d.period_id)]);
  if (d.late) pairs.push([t("field.late"), t("dimona.late", { deadline: formatTimestamp(d.deadline) })]);
  notice(region, kind, title, facts(pairs), anomalyList(d.anomalies));
}

async function submitDimona(event) {
  event.preventDefault();
  const form = $("dimona-form");
  clearInvalid(form);
  const missing = dimonaMissing();
  if (missing.length) {
    for (const input of missing) input.setAttribute("aria-invalid", "true");
    state.dimonaResult = new ApiError(400, "FORM_INCOMPLETE");
    renderDimonaResult();
    missing[0].focus();
    return;
  }
  const button = $("dimona-submit");
  button.disabled = true;
  notice($("dimona-result"), "info", null, el("p", { text: t("common.sending") }));
  try {
    const reply = await api("POST", `${base.dimona}/declarations`, dimonaRequest());
    state.dimonaResult = reply.declaration;
    state.periodsLoaded = false; // a new period: the list is read again when shown
  } catch (error) {
    state.dimonaResult = error;
  } finally {
    button.disabled = !mayDeclare;
  }
  renderDimonaResult();
}

// --- periods --------------------------------------------------------------------------------

function declareEnd(period) {
  document.querySelector('input[name="action"][value="out"]').checked = true;
  showDimonaFields();
  $("out-period").value = String(period.period_id);
  $("out-insz").value = period.worker_insz;
  location.hash = "#dimona";
  $("out-end").focus();
}

function renderPeriods() {
  const rows = state.periods.map((p) => ({
    id: String(p.period_id),
    worker: formatInsz(p.worker_insz),
    type: tOr("worker_type_short", p.worker_type, p.worker_type),
    jc: p.joint_committee || "—",
    start: formatDate(p.start_date),
    end: p.end_date ? formatDate(p.end_date) : t("periods.open"),
    state: tOr("period_state", p.state, p.state),
    late: p.late ? t("common.yes") : t("common.no"),
    act:
      mayDeclare && p.state === "PERIOD_STATE_ACTIVE" && !p.end_date
        ? el("button", { type: "button", class: "secondary", onclick: () => declareEnd(p), text: t("periods.declare_end"), "aria-label": t("periods.declare_end_of", { id: p.period_id }) })
        : "",
  }));
  $("periods-list").replaceChildren(
    table(
      t("periods.caption", { employer: claims.employer_name || formatOnss(onss) }),
      [
        { key: "id", label: t("field.period_id") },
        { key: "worker", label: t("field.worker") },
        { key: "type", label: t("field.worker_type") },
        { key: "jc", label: t("field.joint_committee") },
        { key: "start", label: t("field.start") },
        { key: "end", label: t("field.end") },
        { key: "state", label: t("field.state") },
        { key: "late", label: t("field.late") },
        { key: "act", label: t("field.actions") },
      ],
      rows,
      t("periods.none"),
    ),
  );
  $("periods-more").hidden = !state.periodsToken;
}

async function loadPeriods(more = false) {
  $("periods-error").replaceChildren();
  const params = new URLSearchParams({ page_size: "50" });
  const worker = digits($("periods-insz").value);
  if (worker) params.set("worker_insz", worker);
  if (more && state.periodsToken) params.set("page_token", state.periodsToken);
  try {
    const reply = await api("GET", `${base.dimona}/periods?${params}`);
    state.periods = more ? state.periods.concat(reply.periods || []) : reply.periods || [];
    state.periodsToken = reply.next_page_token || "";
    state.periodsLoaded = true;
    renderPeriods();
  } catch (error) {
    showError($("periods-error"), error);
  }
}

// --- DmfA -----------------------------------------------------------------------------------

function renderDmfa() {
  if (!state.dmfa) return;
  const rows = state.dmfa.map((d) => {
    const v = d.current || {};
    const totals = v.totals || {};
    return {
      quarter: t("dmfa.quarter", { year: d.year, quarter: d.quarter }),
      versions: formatNumber(d.version_count),
      status: d.current ? statusBadge(v.status) : badge("error", t("dmfa.all_refused")),
      workers: formatNumber(totals.workers),
      pay: formatMoney(totals.remuneration),
      worker_c: formatMoney(totals.worker_contributions),
      employer_c: formatMoney(totals.employer_contributions),
      total_c: formatMoney(totals.total_contributions),
      late: v.late ? t("common.yes") : t("common.no"),
      submitted: formatTimestamp(v.submit_time),
    };
  });
  $("dmfa-list").replaceChildren(
    table(
      t("dmfa.caption"),
      [
        { key: "quarter", label: t("field.quarter") },
        { key: "versions", label: t("field.versions"), num: true },
        { key: "status", label: t("field.status") },
        { key: "workers", label: t("field.workers"), num: true },
        { key: "pay", label: t("field.remuneration"), num: true },
        { key: "worker_c", label: t("field.worker_contributions"), num: true },
        { key: "employer_c", label: t("field.employer_contributions"), num: true },
        { key: "total_c", label: t("field.total_contributions"), num: true },
        { key: "late", label: t("field.late") },
        { key: "submitted", label: t("field.submitted") },
      ],
      rows,
      t("dmfa.none"),
    ),
  );
}

async function loadDmfa() {
  $("dmfa-error").replaceChildren();
  try {
    const reply = await api("GET", `${base.dmfa}/declarations?page_size=50`);
    state.dmfa = reply.declarations || [];
    renderDmfa();
  } catch (error) {
    showError($("dmfa-error"), error);
  }
}

// --- DRS ------------------------------------------------------------------------------------

const TU_TYPES = ["001", "002", "003", "004", "005", "006", "007", "008", "009", "010", "011"];
const END_REASONS = [
  "END_REASON_DISMISSAL",
  "END_REASON_FIXED_TERM_END",
  "END_REASON_RESIGNATION",
  "END_REASON_MUTUAL_AGREEMENT",
  "END_REASON_SERIOUS_MISCONDUCT",
];
// Each scenario's own fields: the oneof member's name and its fields (types: date, select,
// checkbox, text, textarea, money (euro -> cents), hundredths (hours -> 1/100), int).
const SCENARIOS = {
  SCENARIO_UNEMPLOYMENT_END_OF_CONTRACT: ["end_of_contract", [
    { name: "reason", type: "select", options: END_REASONS, prefix: "end_reason", required: true },
    { name: "contract_end_date", type: "date", required: true },
    { name: "notice_indemnity", type: "money" },
    { name: "company_supplement", type: "checkbox" },
  ]],
  SCENARIO_TEMPORARY_UNEMPLOYMENT: ["temporary_unemployment", [
    { name: "type", type: "select", options: TU_TYPES, prefix: "tu_type", required: true },
    { name: "planned_end_date", type: "date" },
  ]],
  SCENARIO_TEMPORARY_UNEMPLOYMENT_HOURS: ["temporary_unemployment_hours", [
    { name: "type", type: "select", options: TU_TYPES, prefix: "tu_type", required: true },
    { name: "hours", type: "hundredths", required: true },
    { name: "days", type: "int", required: true },
  ]],
  SCENARIO_SICKNESS_INCAPACITY: ["incapacity", [
    { name: "last_day_worked", type: "date", required: true },
    { name: "maternity_protection", type: "checkbox" },
    { name: "guaranteed_salary_end", type: "date" },
  ]],
  SCENARIO_SICKNESS_RESUMPTION: ["resumption", [
    { name: "part_time", type: "checkbox" },
    { name: "weekly_hours", type: "hundredths" },
  ]],
  SCENARIO_WORK_ACCIDENT: ["work_accident", [
    { name: "insurer_kbo", type: "text" },
    { name: "policy_number", type: "text" },
    { name: "place", type: "text", required: true },
    { name: "description", type: "textarea", required: true },
    { name: "on_the_way", type: "checkbox" },
  ]],
};

function isoDate(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.year}-${pad(date.month)}-${pad(date.day)}`;
}

function dayBefore(date) {
  const when = new Date(Date.UTC(date.year, date.month - 1, date.day - 1));
  return { year: when.getUTCFullYear(), month: when.getUTCMonth() + 1, day: when.getUTCDate() };
}

function scenarioField(oneof, spec, defaults) {
  const id = `drs-f-${spec.name}`;
  const label = el("label", { for: id, text: t(`drs.field.${spec.name}`) + (spec.required ? "" : ` ${t("common.optional")}`) });
  const common = { id, "data-field": `${oneof}.${spec.name}`, "data-name": spec.name, "data-type": spec.type };
  let input;
  if (spec.type === "select") {
    input = el("select", common, spec.options.map((o) => el("option", { value: o, text: tOr(spec.prefix, o, o) })));
  } else if (spec.type === "checkbox") {
    input = el("input", { ...common, type: "checkbox" });
    return el("div", { class: "field check" }, input, label);
  } else if (spec.type === "textarea") {
    input = el("textarea", { ...common, maxlength: 2000 });
  } else if (spec.type === "date") {
    input = el("input", { ...common, type: "date" });
  } else if (spec.type === "text") {
    input = el("input", { ...common, autocomplete: "off", maxlength: 200 });
  } else {
    input = el("input", { ...common, inputmode: "decimal", autocomplete: "off" });
  }
  if (defaults[spec.name]) input.value = defaults[spec.name];
  const hintKey = `drs.hint.${spec.name}`;
  const hint = tOr("drs.hint", spec.name, "");
  if (hint) {
    input.setAttribute("aria-describedby", `${id}-hint`);
    return el("div", { class: "field" }, label, input, el("span", { class: "hint", id: `${id}-hint`, "data-key": hintKey, text: hint }));
  }
  return el("div", { class: "field" }, label, input);
}

function scenarioValues(oneof, form) {
  const values = {};
  for (const input of form.querySelectorAll("[data-name]")) {
    const { name, type } = input.dataset;
    if (type === "checkbox") {
      if (input.checked) values[name] = true;
    } else if (type === "date") {
      if (dateValue(input)) values[name] = dateValue(input);
    } else if (type === "money" || type === "hundredths") {
      const number = Number(String(input.value).replace(",", "."));
      if (input.value.trim() && Number.isFinite(number)) values[name] = Math.round(number * 100);
    } else if (type === "int") {
      if (input.value.trim()) values[name] = Number(digits(input.value));
    } else if (input.value.trim()) {
      values[name] = input.value.trim();
    }
  }
  return { [oneof]: values };
}

function renderPrefill() {
  const region = $("drs-prefill");
  const p = state.prefill;
  if (!p) return region.replaceChildren();
  const { request, prefill, task } = p;
  const [oneof, specs] = SCENARIOS[request.scenario];
  const worker = prefill.worker || {};
  const employment = prefill.employment || {};
  const defaults = {};
  if (request.scenario === "SCENARIO_SICKNESS_INCAPACITY") defaults.last_day_worked = isoDate(dayBefore(request.risk_date));
  const known = facts([
    [t("field.worker"), worker.deceased ? t("drs.deceased") : `${(worker.first_names || []).join(" ")} ${worker.last_name || ""}`.trim()],
    [t("field.worker_insz"), formatInsz(worker.insz || request.insz)],
    [t("field.birth_date"), formatDate(worker.birth_date)],
    [t("field.employment"), t("drs.employment", { id: employment.period_id, type: employment.worker_type || "—", start: formatDate(employment.start_date), end: employment.end_date ? formatDate(employment.end_date) : t("periods.open") })],
    [t("field.scenario"), t(`scenario.${request.scenario}`)],
    [t("field.risk_date"), formatDate(request.risk_date)],
    [t("field.deadline"), formatDate(prefill.deadline)],
  ]);
  const quarters = table(
    t("drs.quarters"),
    [
      { key: "q", label: t("field.quarter") },
      { key: "days", label: t("field.days"), num: true },
      { key: "hours", label: t("field.hours"), num: true },
      { key: "pay", label: t("field.pay"), num: true },
    ],
    (prefill.quarters || []).map((q) => ({
      q: t("dmfa.quarter", { year: q.year, quarter: q.quarter }),
      days: formatNumber(q.days / 100, 2),
      hours: formatNumber(q.hours / 100, 2),
      pay: formatMoney(q.pay),
    })),
    t("drs.no_quarters"),
  );
  const form = el(
    "form",
    { id: "drs-form", novalidate: true },
    el(
      "fieldset",
      { class: "writes", disabled: !mayDeclare },
      el("legend", { text: t("drs.complete") }),
      el("div", { class: "fields" }, specs.map((s) => scenarioField(oneof, s, defaults))),
      el("div", { class: "actions" }, el("button", { type: "submit", id: "drs-submit", text: t("drs.submit") }), el("button", { type: "button", class: "secondary", onclick: () => { state.prefill = null; renderPrefill(); }, text: t("common.cancel") })),
    ),
  );
  form.addEventListener("submit", (event) => submitDrs(event, form, request, oneof, task));
  region.replaceChildren(
    el("div", { class: "notice info" }, el("h3", { text: t("drs.prefilled"), tabindex: "-1", id: "drs-prefill-title" }), el("p", { text: t("drs.prefilled_intro") }), known, quarters),
    form,
  );
}

async function prefill(request, task) {
  state.drsResult = null;
  $("drs-result").replaceChildren();
  notice($("drs-prefill"), "info", null, el("p", { text: t("drs.prefilling") }));
  try {
    const reply = await api("POST", `${base.drs}/declarations:prefill`, request);
    state.prefill = { request, prefill: reply.prefill || {}, task };
    renderPrefill();
    $("drs-prefill-title").focus();
  } catch (error) {
    state.prefill = null;
    showError($("drs-prefill"), error, $("drs-start"));
  }
}

async function startDrs(event) {
  event.preventDefault();
  const form = $("drs-start");
  clearInvalid(form);
  const insz = digits($("drs-insz").value);
  const risk = dateValue($("drs-risk-date"));
  const missing = [];
  if (insz.length !== 11) missing.push($("drs-insz"));
  if (!risk) missing.push($("drs-risk-date"));
  if (missing.length) {
    for (const input of missing) input.setAttribute("aria-invalid", "true");
    showError($("drs-prefill"), new ApiError(400, "FORM_INCOMPLETE"));
    missing[0].focus();
    return;
  }
  await prefill({ insz, scenario: $("drs-scenario").value, risk_date: risk }, "");
}

function renderDrsResult() {
  const d = state.drsResult;
  const region = $("drs-result");
  if (!d) return;
  if (d instanceof ApiError) return showError(region, d, $("drs-form"));
  const pairs = [
    [t("field.status"), statusBadge(d.status)],
    [t("field.reference"), d.declaration_reference],
    [t("field.scenario"), t(`scenario.${d.scenario}`)],
    [t("field.worker_insz"), formatInsz(d.insz)],
  ];
  if (d.late) pairs.push([t("field.late"), t("drs.late", { deadline: formatDate(d.deadline) })]);
  if (d.attestation_id) {
    pairs.push([t("field.attestation"), tOr("attestation_kind", d.attestation_kind, d.attestation_kind)]);
    pairs.push([t("field.destination"), institution(d.destination)]);
    pairs.push([t("field.delivery"), el("span", { id: "drs-delivery" }, statusBadge(d.attestation_status))]);
  }
  notice(region, STATUS_KIND[d.status] || "info", t(`drs.result.${d.status}`), facts(pairs), anomalyList(d.anomalies));
}

// Follows the attestation until it is delivered (or dead-lettered), every 2 s for a minute.
async function followDelivery(name) {
  for (let i = 0; i < 30; i++) {
    await new Promise((resolve) => setTimeout(resolve, 2000));
    if (!state.drsResult || state.drsResult.name !== name) return;
    try {
      const reply = await api("GET", `/drs/v1/${name}`);
      state.drsResult = reply.declaration;
      renderDrsResult();
      if (reply.declaration.attestation_status !== "ATTESTATION_STATUS_PENDING") {
        // Both lists again once the attestation is delivered: the to-do list read just after
        // the submission was once seen still showing its task open (the task was DONE in the
        // DRS's database; cause not found), so the page never ends on that.
        loadDrsDeclarations();
        loadTasks();
        return;
      }
    } catch {
      return; // the list's refresh button still works
    }
  }
}

async function submitDrs(event, form, request, oneof, task) {
  event.preventDefault();
  clearInvalid(form);
  const body = {
    declaration_reference: newReference("portal-drs"),
    insz: request.insz,
    risk_date: request.risk_date,
    ...scenarioValues(oneof, form),
  };
  if (task) body.task = task;
  const button = $("drs-submit");
  button.disabled = true;
  notice($("drs-result"), "info", null, el("p", { text: t("common.sending") }));
  try {
    const reply = await api("POST", `${base.drs}/declarations`, body);
    state.drsResult = reply.declaration;
    state.prefill = null;
    renderPrefill();
    renderDrsResult();
    loadDrsDeclarations();
    loadTasks();
    if (state.drsResult.attestation_status === "ATTESTATION_STATUS_PENDING") followDelivery(state.drsResult.name);
  } catch (error) {
    state.drsResult = error;
    renderDrsResult();
    button.disabled = !mayDeclare;
  }
}

function renderTasks() {
  if (!state.tasks) return;
  const rows = state.tasks.map((task) => ({
    scenario: t(`scenario.${task.scenario}`),
    worker: formatInsz(task.insz),
    risk: formatDate(task.risk_date),
    by: institution(task.requested_by),
    deadline: formatDate(task.deadline),
    state: tOr("task_state", task.state, task.state),
    act:
      task.state === "TASK_STATE_OPEN" && mayDeclare
        ? el("button", {
          type: "button",
          onclick: () => prefill({ insz: task.insz, scenario: task.scenario, risk_date: task.risk_date }, task.name),
          text: t("drs.answer"),
          "aria-label": t("drs.answer_for", { worker: formatInsz(task.insz) }),
        })
        : "",
  }));
  $("drs-tasks").replaceChildren(
    table(t("drs.tasks"), [
      { key: "scenario", label: t("field.scenario") },
      { key: "worker", label: t("field.worker_insz") },
      { key: "risk", label: t("field.risk_date") },
      { key: "by", label: t("field.requested_by") },
      { key: "deadline", label: t("field.deadline") },
      { key: "state", label: t("field.state") },
      { key: "act", label: t("field.actions") },
    ], rows, t("drs.no_tasks")),
  );
}

// The lists are read from several places (the section opening, a submission, a delivery, the
// refresh button): two reads may answer out of order, and only the one started last is shown.
const reads = { tasks: 0, declarations: 0 };

async function loadTasks() {
  const mine = ++reads.tasks;
  try {
    const reply = await api("GET", `${base.drs}/tasks?page_size=50`);
    if (mine !== reads.tasks) return;
    state.tasks = reply.tasks || [];
    renderTasks();
  } catch (error) {
    if (mine === reads.tasks) showError($("drs-tasks"), error);
  }
}

function renderDrsDeclarations() {
  if (!state.drsDeclarations) return;
  const rows = state.drsDeclarations.map((d) => ({
    ref: d.declaration_reference,
    scenario: t(`scenario.${d.scenario}`),
    worker: formatInsz(d.insz),
    risk: formatDate(d.risk_date),
    status: statusBadge(d.status),
    destination: d.attestation_id ? institution(d.destination) : "—",
    delivery: d.attestation_id ? statusBadge(d.attestation_status) : "—",
    submitted: formatTimestamp(d.submit_time),
  }));
  $("drs-list").replaceChildren(
    table(t("drs.declarations"), [
      { key: "ref", label: t("field.reference") },
      { key: "scenario", label: t("field.scenario") },
      { key: "worker", label: t("field.worker_insz") },
      { key: "risk", label: t("field.risk_date") },
      { key: "status", label: t("field.status") },
      { key: "destination", label: t("field.destination") },
      { key: "delivery", label: t("field.delivery") },
      { key: "submitted", label: t("field.submitted") },
    ], rows, t("drs.no_declarations")),
  );
}

async function loadDrsDeclarations() {
  const mine = ++reads.declarations;
  $("drs-error").replaceChildren();
  try {
    const reply = await api("GET", `${base.drs}/declarations?page_size=50`);
    if (mine !== reads.declarations) return;
    state.drsDeclarations = reply.declarations || [];
    renderDrsDeclarations();
  } catch (error) {
    if (mine === reads.declarations) showError($("drs-error"), error);
  }
}

// --- the page -------------------------------------------------------------------------------

function who() {
  return [
    el("strong", { text: claims.name }),
    " — ",
    `${claims.employer_name || ""} (${formatOnss(onss)})`,
    " — ",
    el("span", { class: "role", text: t("employer.role", { role: t(`role.${claims.role}`) }) }),
  ];
}

function onSection(id) {
  if (id === "periods" && !state.periodsLoaded) loadPeriods();
  if (id === "dmfa" && !state.dmfa) loadDmfa();
  if (id === "drs" && !state.tasks) {
    loadTasks();
    loadDrsDeclarations();
  }
}

function renderAll() {
  workerTypeHint();
  renderDimonaResult();
  if (state.periodsLoaded) renderPeriods();
  renderDmfa();
  renderTasks();
  renderPrefill();
  renderDrsResult();
  renderDrsDeclarations();
}

async function start() {
  if (!claims) return;
  if (!mayDeclare) {
    $("reader-note").hidden = false;
    for (const fieldset of document.querySelectorAll("fieldset.writes")) fieldset.disabled = true;
  }
  for (const radio of document.querySelectorAll('input[name="action"]')) radio.addEventListener("change", showDimonaFields);
  $("in-type").addEventListener("change", workerTypeHint);
  $("dimona-form").addEventListener("submit", submitDimona);
  $("periods-filter").addEventListener("submit", (event) => { event.preventDefault(); loadPeriods(); });
  $("periods-more").addEventListener("click", () => loadPeriods(true));
  $("dmfa-refresh").addEventListener("click", loadDmfa);
  $("drs-start").addEventListener("submit", startDrs);
  $("drs-refresh").addEventListener("click", loadDrsDeclarations);
  await startPage({ who, sections: ["dimona", "periods", "dmfa", "drs"], onSection, render: renderAll });
  workerTypeHint();
  showDimonaFields();
}

start();
