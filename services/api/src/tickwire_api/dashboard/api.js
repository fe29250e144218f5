// Calls to the /v1 API from the dashboard: the API key (kept for the browser tab in
// sessionStorage) goes in X-API-Key, a 401 becomes Unauthorized, any other refusal an ApiError.

const KEY_ITEM = "tickwire.apiKey";

export class Unauthorized extends Error {}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function storedKey() {
  return sessionStorage.getItem(KEY_ITEM);
}

export function storeKey(key) {
  if (key) sessionStorage.setItem(KEY_ITEM, key);
  else sessionStorage.removeItem(KEY_ITEM);
}

// FastAPI answers a refusal with {"detail": "..."} or, for a 422, a list of {loc, msg}.
function describe(body, status) {
  const detail = body && body.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail.map((e) => `${(e.loc || []).slice(1).join(".")}: ${e.msg}`).join("; ");
  }
  return `HTTP ${status}`;
}

/** GET v1/<path>?<params> as JSON; undefined and null parameters are left out. */
export async function getJson(path, params = {}) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null) query.set(name, String(value));
  }
  const headers = { Accept: "application/json" };
  const key = storedKey();
  if (key) headers["X-API-Key"] = key;
  // Relative to the page, so the dashboard works behind a proxy that adds a path prefix.
  const search = query.toString();
  const url = `v1/${path}${search ? `?${search}` : ""}`;
  const response = await fetch(url, { headers, cache: "no-store" });
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null; // a proxy's HTML error page, say: the status says enough
  }
  if (response.status === 401) throw new Unauthorized(key ? "the API key was refused" : "");
  if (!response.ok) throw new ApiError(response.status, describe(body, response.status));
  return body;
}

/** Every row of a paged /v1 route (its rows under `field`), following next_cursor to the end. */
export async function getAllPages(path, params, field) {
  const rows = [];
  let cursor = null;
  do {
    const page = await getJson(path, { ...params, cursor });
    rows.push(...page[field]);
    cursor = page.next_cursor;
  } while (cursor);
  return rows;
}
