// The signed-in person's token: kept in sessionStorage (this tab only, gone when it closes),
// sent as `Authorization: Bearer` with every API call. The edge verifies it; the claims read
// here only choose what to show.

const KEY = "carrefour.token";

export function saveToken(token) {
  sessionStorage.setItem(KEY, token);
}

export function token() {
  return sessionStorage.getItem(KEY) || "";
}

export function signOut() {
  sessionStorage.removeItem(KEY);
  location.assign("/");
}

function decodePart(part) {
  const base64 = part.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "===".slice((base64.length + 3) % 4);
  const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

// The token's payload, or null when there is none, it cannot be read, or it has expired.
export function claims() {
  const value = token();
  const parts = value.split(".");
  if (parts.length !== 3) return null;
  try {
    const payload = decodePart(parts[1]);
    if (typeof payload.exp === "number" && payload.exp * 1000 <= Date.now()) return null;
    return payload;
  } catch {
    return null;
  }
}

// The page for these claims: an agent's employer area, or the citizen's.
export function homeFor(payload) {
  return payload && payload.employer ? "/employer.html" : "/citizen.html";
}

// The claims a page needs (`employer` or `citizen`); otherwise back to the sign-in page (or to
// the area the token is for).
export function requireSession(kind) {
  const payload = claims();
  if (!payload) {
    location.replace(token() ? "/?expired=1" : "/");
    return null;
  }
  const isAgent = Boolean(payload.employer);
  if ((kind === "employer") !== isAgent) {
    location.replace(homeFor(payload));
    return null;
  }
  return payload;
}

// The claims of any signed-in person, a citizen or an employer's staff (the pages both reach,
// such as the statistics); otherwise back to the sign-in page.
export function requireAnySession() {
  const payload = claims();
  if (!payload) {
    location.replace(token() ? "/?expired=1" : "/");
    return null;
  }
  return payload;
}
