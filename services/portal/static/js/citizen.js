// The citizen area: the signed-in person's own data only (the token's `sub`). Every call names
// that INSZ or none (/router/v1/me/...); the services refuse any other person's data whatever
// this page asks, since the edge forwards the verified token and not what the page claims.

import { t, tOr, formatDate, formatTimestamp, formatInsz, formatOnss } from "./i18n.js";
import { api } from "./api.js";
import { requireSession } from "./session.js";
import { el, table, facts, badge, showError, startPage } from "./ui.js";

const claims = requireSession("citizen");
const insz = claims ? claims.sub : "";
const $ = (id) => document.getElementById(id);
const state = { me: null, consultations: null, consultationsToken: "", holders: null, periods: null, attestations: null };

const STATUS_KIND = {
  DECLARATION_STATUS_ACCEPTED: "ok",
  DECLARATION_STATUS_ACCEPTED_WITH_WARNINGS: "warn",
  DECLARATION_STATUS_REFUSED: "error",
  ATTESTATION_STATUS_PENDING: "info",
  ATTESTATION_STATUS_DELIVERED: "ok",
  ATTESTATION_STATUS_ACKNOWLEDGED: "ok",
  ATTESTATION_STATUS_DEAD_LETTERED: "error",
};

function address(period) {
  if (!period || !period.address) return "—";
  const a = period.address;
  const street = [a.street, a.house_number].filter(Boolean).join(" ") + (a.box ? ` ${t("me.box", { box: a.box })}` : "");
  return [street, [a.postcode, a.municipality].filter(Boolean).join(" "), tOr("country", a.country_code, a.country_code)].filter(Boolean).join(", ");
}

function renderMe() {
  const p = state.me;
  if (!p) return;
  const identity = p.identity || {};
  const birth = p.birth || {};
  const pairs = [
    [t("me.name"), `${(identity.first_names || []).join(" ")} ${identity.last_name || ""}`.trim()],
    [t("me.insz"), formatInsz(p.insz)],
    [t("me.sex"), tOr("sex", identity.sex, identity.sex)],
    [t("me.birth"), [formatDate(birth.date), birth.place].filter(Boolean).join(", ")],
    [t("me.address"), address(p.address)],
  ];
  if (p.address && p.address.period) pairs.push([t("me.address_since"), formatDate(p.address.period.start_date)]);
  if (p.nationality) pairs.push([t("me.nationality"), tOr("country", p.nationality.country_code, p.nationality.country_code)]);
  if (p.civil_status) pairs.push([t("me.civil_state"), tOr("civil_state", p.civil_status.state, p.civil_status.state)]);
  $("me-data").replaceChildren(facts(pairs));
}

async function loadMe() {
  $("me-error").replaceChildren();
  try {
    const reply = await api("GET", `/registry/v1/persons/${insz}?read_mask=identity,birth,address,nationality,civil_status`);
    state.me = reply.person || {};
    renderMe();
  } catch (error) {
    showError($("me-error"), error);
  }
}

function methodName(method) {
  return tOr("method", method, String(method || "").split("/").pop());
}

function renderConsultations() {
  if (!state.consultations) return;
  const rows = state.consultations.map((c) => ({
    when: formatTimestamp(c.time),
    who: c.institution_name || c.institution,
    why: tOr("legal", c.legal_context, c.legal_context),
    what: methodName(c.method),
    ticket: el("span", { class: "muted", text: c.ticket }),
  }));
  $("consultations-list").replaceChildren(
    table(t("consultations.caption"), [
      { key: "when", label: t("field.when") },
      { key: "who", label: t("field.institution") },
      { key: "why", label: t("field.legal_context") },
      { key: "what", label: t("field.data_consulted") },
      { key: "ticket", label: t("field.ticket") },
    ], rows, t("consultations.none")),
  );
  $("consultations-more").hidden = !state.consultationsToken;
}

async function loadConsultations(more = false) {
  $("consultations-error").replaceChildren();
  const params = new URLSearchParams({ page_size: "50" });
  if (more && state.consultationsToken) params.set("page_token", state.consultationsToken);
  try {
    const reply = await api("GET", `/router/v1/me/consultations?${params}`);
    const found = reply.consultations || [];
    state.consultations = more ? (state.consultations || []).concat(found) : found;
    state.consultationsToken = reply.next_page_token || "";
    renderConsultations();
  } catch (error) {
    showError($("consultations-error"), error);
  }
}

function renderHolders() {
  if (!state.holders) return;
  const rows = state.holders.map((h) => ({
    who: h.institution_name || h.institution,
    capacity: tOr("capacity", `${h.sector}.${h.capacity}`, h.description || `${h.sector}/${h.capacity}`),
    sector: tOr("sector", String(h.sector), String(h.sector)),
    from: formatDate(h.start_date),
    to: h.end_date ? formatDate(h.end_date) : t("holders.current"),
  }));
  $("holders-list").replaceChildren(
    table(t("holders.caption"), [
      { key: "who", label: t("field.institution") },
      { key: "sector", label: t("field.sector") },
      { key: "capacity", label: t("field.capacity") },
      { key: "from", label: t("field.start") },
      { key: "to", label: t("field.end") },
    ], rows, t("holders.none")),
  );
}

async function loadHolders() {
  $("holders-error").replaceChildren();
  try {
    const reply = await api("GET", "/router/v1/me/holders?page_size=100");
    state.holders = reply.holders || [];
    renderHolders();
  } catch (error) {
    showError($("holders-error"), error);
  }
}

function renderPeriods() {
  if (!state.periods) return;
  const rows = state.periods.map((p) => ({
    employer: formatOnss(p.employer),
    type: tOr("worker_type_short", p.worker_type, p.worker_type),
    jc: p.joint_committee || "—",
    start: formatDate(p.start_date),
    end: p.end_date ? formatDate(p.end_date) : t("periods.open"),
  }));
  $("employment-list").replaceChildren(
    table(t("employment.caption"), [
      { key: "employer", label: t("field.employer_onss") },
      { key: "type", label: t("field.worker_type") },
      { key: "jc", label: t("field.joint_committee") },
      { key: "start", label: t("field.start") },
      { key: "end", label: t("field.end") },
    ], rows, t("employment.none")),
  );
}

async function loadPeriods() {
  $("employment-error").replaceChildren();
  try {
    const reply = await api("GET", `/dimona/v1/persons/${insz}/periods?page_size=100`);
    state.periods = reply.periods || [];
    renderPeriods();
  } catch (error) {
    showError($("employment-error"), error);
  }
}

function renderAttestations() {
  if (!state.attestations) return;
  const rows = state.attestations.map((d) => ({
    what: t(`scenario.${d.scenario}`),
    risk: formatDate(d.risk_date),
    employer: formatOnss(String(d.name || "").split("/")[1] || ""),
    status: badge(STATUS_KIND[d.status] || "info", tOr("status", d.status, d.status)),
    kind: d.attestation_id ? tOr("attestation_kind", d.attestation_kind, d.attestation_kind) : "—",
    to: d.attestation_id ? (d.destination ? tOr("institution", d.destination, d.destination) : t("drs.destination_directory")) : "—",
    delivery: d.attestation_id ? badge(STATUS_KIND[d.attestation_status] || "info", tOr("status", d.attestation_status, d.attestation_status)) : "—",
  }));
  $("attestations-list").replaceChildren(
    table(t("attestations.caption"), [
      { key: "what", label: t("field.scenario") },
      { key: "risk", label: t("field.risk_date") },
      { key: "employer", label: t("field.employer_onss") },
      { key: "status", label: t("field.status") },
      { key: "kind", label: t("field.attestation") },
      { key: "to", label: t("field.destination") },
      { key: "delivery", label: t("field.delivery") },
    ], rows, t("attestations.none")),
  );
}

async function loadAttestations() {
  $("attestations-error").replaceChildren();
  try {
    const reply = await api("GET", `/drs/v1/persons/${insz}/declarations?page_size=100`);
    state.attestations = reply.declarations || [];
    renderAttestations();
  } catch (error) {
    showError($("attestations-error"), error);
  }
}

const LOADERS = { me: loadMe, consultations: loadConsultations, holders: loadHolders, employment: loadPeriods, attestations: loadAttestations };
const LOADED = { me: () => state.me, consultations: () => state.consultations, holders: () => state.holders, employment: () => state.periods, attestations: () => state.attestations };

function onSection(id) {
  if (!LOADED[id]()) LOADERS[id]();
}

function renderAll() {
  renderMe();
  renderConsultations();
  renderHolders();
  renderPeriods();
  renderAttestations();
}

async function start() {
  if (!claims) return;
  $("consultations-refresh").addEventListener("click", () => loadConsultations());
  $("consultations-more").addEventListener("click", () => loadConsultations(true));
  await startPage({
    who: () => [el("strong", { text: claims.name }), " — ", t("citizen.signed_in_as_citizen")],
    sections: ["me", "consultations", "holders", "employment", "attestations"],
    onSection,
    render: renderAll,
  });
}

start();
