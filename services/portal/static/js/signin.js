// The sign-in page: the development identity provider's people; a citizen signs in as
// themself, an agent for one of the employers they hold a mandate for (the role comes from the
// provider's mandate table, not from this page).

import { t, setLanguage, preferredLanguage, bindLanguageSwitch, onLanguageChange, formatInsz, formatOnss } from "./i18n.js";
import { el, notice } from "./ui.js";
import { saveToken, claims, homeFor } from "./session.js";

let people = null;
let unavailable = false;

async function signIn(request) {
  const error = document.getElementById("signin-error");
  error.replaceChildren();
  notice(document.getElementById("signin-status"), "info", null, el("p", { text: t("signin.signing_in") }));
  let response;
  try {
    response = await fetch("/idp/token", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(request),
      credentials: "omit",
      cache: "no-store",
    });
  } catch {
    document.getElementById("signin-status").replaceChildren();
    notice(error, "error", t("error.title"), el("p", { text: t("error.NETWORK") }));
    return;
  }
  let data = null;
  try { data = await response.json(); } catch { data = null; }
  if (!response.ok || !data || !data.access_token) {
    document.getElementById("signin-status").replaceChildren();
    const reason = data && data.reason ? data.reason : "UNKNOWN";
    const key = `error.${reason}`;
    notice(error, "error", t("error.title"), el("p", { text: t(key) === key ? t("error.UNKNOWN") : t(key) }));
    return;
  }
  saveToken(data.access_token);
  location.assign(homeFor(claims()));
}

function render() {
  const list = document.getElementById("people");
  list.replaceChildren();
  if (unavailable) {
    notice(document.getElementById("signin-status"), "info", null, el("p", { text: t("signin.federal") }));
    return;
  }
  if (!people) return;
  for (const person of people) {
    const nameId = `person-${person.sub}`;
    const buttons = [
      el("button", {
        type: "button",
        "aria-describedby": nameId,
        "data-sub": person.sub,
        "data-as": "citizen",
        onclick: () => signIn({ sub: person.sub }),
        text: t("signin.as_citizen"),
      }),
      ...person.mandates.map((m) =>
        el("button", {
          type: "button",
          class: "secondary",
          "aria-describedby": nameId,
          "data-sub": person.sub,
          "data-employer": m.employer,
          onclick: () => signIn({ sub: person.sub, employer: m.employer }),
          text: t("signin.for_employer", {
            employer: m.employer_name,
            onss: formatOnss(m.employer),
            role: t(`role.${m.role}`),
          }),
        }),
      ),
    ];
    list.append(
      el(
        "li",
        {},
        el("p", { class: "name", id: nameId }, person.name, el("br"), el("span", { class: "muted", text: formatInsz(person.sub) })),
        el("div", { class: "sign-in" }, buttons),
      ),
    );
  }
}

async function start() {
  await setLanguage(preferredLanguage());
  bindLanguageSwitch(document.getElementById("language"));
  onLanguageChange(render);
  if (new URLSearchParams(location.search).has("expired")) {
    notice(document.getElementById("signin-status"), "warn", null, el("p", { text: t("signin.expired") }));
  }
  try {
    const response = await fetch("/idp/people", { cache: "no-store", credentials: "omit" });
    if (response.status === 404) unavailable = true;
    else if (!response.ok) throw new Error("people");
    else people = (await response.json()).people;
  } catch {
    notice(document.getElementById("signin-error"), "error", t("error.title"), el("p", { text: t("error.UNAVAILABLE") }));
  }
  render();
}

start();
