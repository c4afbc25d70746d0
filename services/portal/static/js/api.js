// Calls to the REST API through the edge (same origin), with the bearer token. An error is an
// ApiError with the HTTP status and a machine-readable reason: the gRPC error's
// google.rpc.ErrorInfo reason (in the JSON Status' details), the portal's own `reason`, or,
// when the edge answered without JSON (its JWT filter: 401/403), one derived from the status.

import { token } from "./session.js";
import { has, t } from "./i18n.js";

export class ApiError extends Error {
  constructor(status, reason, fields = []) {
    super(reason);
    this.status = status;
    this.reason = reason;
    this.fields = fields; // [{field, description}] from google.rpc.BadRequest
  }
}

const BY_STATUS = {
  400: "BAD_REQUEST",
  401: "UNAUTHENTICATED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  409: "CONFLICT",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  502: "UNAVAILABLE",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

function typeOf(detail) {
  return String(detail["@type"] || "");
}

function errorOf(status, data) {
  let reason = "";
  const fields = [];
  if (data && typeof data === "object") {
    for (const detail of Array.isArray(data.details) ? data.details : []) {
      if (!detail || typeof detail !== "object") continue;
      if (typeOf(detail).endsWith("google.rpc.ErrorInfo") && detail.reason) reason = detail.reason;
      if (typeOf(detail).endsWith("google.rpc.BadRequest")) {
        for (const v of detail.field_violations || detail.fieldViolations || []) {
          fields.push({ field: String(v.field || ""), description: String(v.description || "") });
        }
      }
    }
    if (!reason && typeof data.reason === "string") reason = data.reason;
  }
  return new ApiError(status, reason || BY_STATUS[status] || "UNKNOWN", fields);
}

export async function api(method, path, body) {
  const headers = { Accept: "application/json", Authorization: `Bearer ${token()}` };
  const init = { method, headers, cache: "no-store", credentials: "omit", redirect: "error" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, "NETWORK");
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    data = null;
  }
  if (response.ok && data !== null) return data;
  throw errorOf(response.ok ? 502 : response.status, data);
}

// The plain-language explanation of an error, in the current language.
export function explain(error) {
  if (!(error instanceof ApiError)) return t("error.UNKNOWN");
  if (has(`error.${error.reason}`)) return t(`error.${error.reason}`);
  if (has(`error.status.${error.status}`)) return t(`error.status.${error.status}`);
  if (error.reason.startsWith("INSZ_")) return t("error.INSZ_INVALID");
  return t("error.UNKNOWN");
}
