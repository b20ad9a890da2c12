// The REST API under /api/v1, the only thing the inspector talks to. The API key
// lives in sessionStorage: it is gone when the tab closes, and "Forget key" drops it.

const KEY_NAME = "mnemo.inspector.key";

export class ApiError extends Error {
  constructor(status, type, message) {
    super(message);
    this.status = status;
    this.type = type;
  }
}

export const keyStore = {
  get: () => sessionStorage.getItem(KEY_NAME),
  set: (key) => sessionStorage.setItem(KEY_NAME, key),
  forget: () => sessionStorage.removeItem(KEY_NAME),
};

async function request(method, path, { params, body } = {}) {
  const url = new URL(`/api/v1${path}`, window.location.origin);
  for (const [name, value] of Object.entries(params ?? {})) {
    for (const item of [value].flat()) {
      if (item !== undefined && item !== null && item !== "") url.searchParams.append(name, item);
    }
  }
  const headers = { Accept: "application/json" };
  const key = keyStore.get();
  if (key) headers["X-API-Key"] = key;
  const init = { method, headers, cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url, init);
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = data?.error ?? {};
    throw new ApiError(response.status, error.type ?? "HTTPError",
      error.message ?? `${response.status} ${response.statusText}`);
  }
  return data;
}

/** Path segments, each URI-encoded: ``path("memories", id, "history")``. */
export function path(...parts) {
  return `/${parts.map((part) => encodeURIComponent(String(part))).join("/")}`;
}

export const api = {
  get: (route, params) => request("GET", route, { params }),
  post: (route, body, params) => request("POST", route, { body, params }),
  put: (route, body, params) => request("PUT", route, { body, params }),
  patch: (route, body) => request("PATCH", route, { body }),
  delete: (route, params) => request("DELETE", route, { params }),
};
