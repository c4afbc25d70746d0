// Small DOM helpers: elements are built with textContent only (never innerHTML with data), tables
// that stack into labelled cards on a narrow screen, and the aria-live regions for results
// and errors.

import { t, applyStatic, bindLanguageSwitch, setLanguage, preferredLanguage, onLanguageChange } from "./i18n.js";
import { explain, ApiError } from "./api.js";
import { signOut } from "./session.js";

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// A table: `columns` = [{key, label, num?}], `rows` = objects of strings or Nodes.
export function table(captionText, columns, rows, emptyText) {
  if (!rows.length) return el("p", { class: "muted", text: emptyText || t("common.none") });
  const head = el("tr", {}, columns.map((c) => el("th", { scope: "col", class: c.num ? "num" : null, text: c.label })));
  const body = rows.map((row) =>
    el("tr", {}, columns.map((c) => el("td", { "data-label": c.label, class: c.num ? "num" : null }, row[c.key] ?? "—"))),
  );
  return el(
    "div",
    { class: "table-wrap" },
    el("table", { class: "stack" }, el("caption", { text: captionText }), el("thead", {}, head), el("tbody", {}, body)),
  );
}

export function facts(pairs) {
  return el("dl", { class: "facts" }, pairs.flatMap(([term, value]) => [el("dt", { text: term }), el("dd", {}, value ?? "—")]));
}

export function badge(kind, text) {
  return el("span", { class: `status-badge ${kind}`, text });
}

// Shows a message in a live region (role=status or role=alert) and returns it.
export function notice(region, kind, title, ...body) {
  region.replaceChildren(el("div", { class: `notice ${kind}` }, title ? el("h3", { text: title }) : null, ...body));
  return region;
}

// An error in plain language (never the raw JSON), with a way back to sign-in when the session
// is no longer valid; fields named by the server are marked invalid in `form`.
export function showError(region, error, form) {
  const body = [el("p", { text: explain(error) })];
  if (error instanceof ApiError && (error.status === 401 || error.reason === "UNAUTHENTICATED")) {
    body.push(el("p", {}, el("a", { href: "/", onclick: (e) => { e.preventDefault(); signOut(); }, text: t("error.sign_in_again") })));
  }
  if (form && error instanceof ApiError) {
    for (const { field } of error.fields) {
      const input = form.querySelector(`[data-field="${CSS.escape(field)}"]`);
      if (input) input.setAttribute("aria-invalid", "true");
    }
  }
  notice(region, "error", t("error.title"), ...body);
}

export function clearInvalid(form) {
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

// The common frame of a signed-in page: language switch, who is signed in, sign-out, and the
// section navigation by hash (#section). `render` is called on every language change.
export async function startPage({ who, sections, onSection, render }) {
  await setLanguage(preferredLanguage());
  bindLanguageSwitch(document.getElementById("language"));
  document.getElementById("sign-out").addEventListener("click", signOut);
  const showWho = () => document.getElementById("who").replaceChildren(...who());
  showWho();
  const links = [...document.querySelectorAll("nav.sections a")];
  const show = () => {
    const wanted = location.hash.slice(1);
    const id = sections.includes(wanted) ? wanted : sections[0];
    for (const name of sections) document.getElementById(name).hidden = name !== id;
    for (const link of links) {
      if (link.getAttribute("href") === `#${id}`) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    onSection(id);
  };
  window.addEventListener("hashchange", () => {
    show();
    const heading = document.querySelector(`#${location.hash.slice(1) || sections[0]} h2`);
    if (heading) heading.focus();
  });
  onLanguageChange(() => {
    applyStatic();
    showWho();
    render();
  });
  show();
}

// A date input's value ("YYYY-MM-DD") as a google.type.Date, or undefined when empty.
export function dateValue(input) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(input.value || "");
  return m ? { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) } : undefined;
}

// A time input's value ("HH:MM") as a google.type.TimeOfDay, or undefined when empty.
export function timeValue(input) {
  const m = /^(\d{2}):(\d{2})/.exec(input.value || "");
  return m ? { hours: Number(m[1]), minutes: Number(m[2]) } : undefined;
}

// A declaration reference for a new submission: the idempotency key, within the allowed
// letters, digits and `._:-` (1 to 64 characters).
export function newReference(prefix) {
  return `${prefix}-${crypto.randomUUID()}`;
}
