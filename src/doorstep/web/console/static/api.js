// The REST API under /api/v1, authenticated by the session cookie; writes carry the CSRF token.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function createApi(csrfToken, { onUnauthorized } = {}) {
  async function call(method, path, { params, body, envelope = false } = {}) {
    const url = new URL(`/api/v1${path}`, location.origin);
    for (const [key, value] of Object.entries(params || {})) {
      if (value !== undefined && value !== null) url.searchParams.set(key, value);
    }
    const headers = { Accept: "application/json" };
    if (method !== "GET") {
      headers["X-CSRF-Token"] = csrfToken;
      headers["Content-Type"] = "application/json";
    }
    let response;
    try {
      response = await fetch(url, {
        method,
        headers,
        credentials: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, "network", "Can't reach the server. Check your connection.");
    }
    if (response.status === 401) {
      onUnauthorized?.();
      throw new ApiError(401, "unauthorized", "Your session has ended. Please sign in again.");
    }
    if (response.status === 204) return null;
    let payload = null;
    try {
      payload = await response.json();
    } catch {
      payload = null;
    }
    if (!response.ok) {
      const error = payload?.error || {};
      throw new ApiError(response.status, error.code || "http_error", error.message || `Request failed (${response.status})`);
    }
    return envelope ? payload : payload?.data ?? payload;
  }
  return {
    get: (path, params) => call("GET", path, { params }),
    /** The whole answer, for lists that carry more than `data` (e.g. `counts`). */
    getEnvelope: (path, params) => call("GET", path, { params, envelope: true }),
    post: (path, body) => call("POST", path, { body }),
    patch: (path, body) => call("PATCH", path, { body }),
    delete: (path) => call("DELETE", path),
  };
}
