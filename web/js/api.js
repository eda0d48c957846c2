// Talks to /api/v1 with the session cookie. The cookie itself is HttpOnly; the readable
// tc_csrf cookie is echoed in X-CSRF-Token on unsafe requests (double submit).
// An ApiError's `detail` is English for developers; pages show errorText(error) (i18n.js),
// which translates its `code`, and fieldErrorText for each of its `fieldCodes`.

export const API = "/api/v1";
const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.detail || `Request failed (${status})`);
    this.status = status;
    this.error = body?.error || "HTTPError";
    this.detail = this.message;
    this.fields = body?.fields || {};
    // Stable names the pages translate (web/js/i18n.js errorText / fieldErrorText).
    this.code = body?.code || "";
    this.fieldCodes = body?.field_codes || {};
    this.fieldParams = body?.field_params || {};
    // A prescription refused for its checks carries them (web/js/findings.js).
    this.findings = body?.findings || [];
  }
}

function cookie(name) {
  const prefix = name + "=";
  for (const part of document.cookie.split(";")) {
    const item = part.trim();
    if (item.startsWith(prefix)) return decodeURIComponent(item.slice(prefix.length));
  }
  return "";
}

/** The query string for params, leaving out empty values. */
export function query(params = {}) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") q.set(key, value);
  }
  const text = q.toString();
  return text ? "?" + text : "";
}

// Listeners for a lost session (401), so the app can go back to the login page.
const unauthorized = new Set();
export const onUnauthorized = (fn) => unauthorized.add(fn);

export async function request(method, path, { body, params, headers = {} } = {}) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json", ...headers } };
  if (!SAFE.has(method)) init.headers["X-CSRF-Token"] = cookie("tc_csrf");
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(API + path + query(params), init);
  } catch {
    throw new ApiError(0, {
      error: "NetworkError",
      code: "network",
      detail: "The server cannot be reached. Check the connection and try again.",
    });
  }
  const type = response.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await response.json().catch(() => null) : null;
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    if (response.status === 401 && path !== "/auth/login") unauthorized.forEach((fn) => fn(error));
    throw error;
  }
  return data;
}

export const get = (path, params) => request("GET", path, { params });
export const post = (path, body, headers) => request("POST", path, { body, headers });
export const patch = (path, body, headers) => request("PATCH", path, { body, headers });

/** A random key so that a retried booking is not booked twice. */
export function idempotencyKey() {
  // getRandomValues works outside secure contexts too, unlike randomUUID.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
