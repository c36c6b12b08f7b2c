// The REST client both browser apps share: the bearer session, JSON in and out, and errors in the
// server's one shape ({"error": {code, message, params}}). No framework, no build step.

export class ApiError extends Error {
  /** status 0 means the request never reached the server (offline, server down). */
  constructor(status, code, message, params = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.params = params;
  }

  get offline() {
    return this.status === 0;
  }
}

export class Api extends EventTarget {
  /** @param {string} storageKey where the session is kept (localStorage, so a reload keeps it) */
  constructor(storageKey) {
    super();
    this.storageKey = storageKey;
    this.session = null;
    try {
      this.session = JSON.parse(localStorage.getItem(storageKey) || "null");
    } catch {
      this.session = null;
    }
    if (this.session && Date.parse(this.session.expires_at) <= Date.now()) this.session = null;
  }

  get token() {
    return this.session ? this.session.access_token : null;
  }

  /** Log in; `totp` is the authenticator's code, asked for when the server answers totp_required. */
  async login(username, password, totp = null) {
    const body = totp ? { username, password, totp } : { username, password };
    const session = await this.request("POST", "/api/auth/login", { body, anonymous: true });
    this.session = session;
    localStorage.setItem(this.storageKey, JSON.stringify(session));
    return session;
  }

  async logout() {
    if (this.token) {
      try {
        await this.request("POST", "/api/auth/logout");
      } catch {
        // Logging out offline still forgets the token here; the server lets it expire.
      }
    }
    this.forget();
  }

  forget() {
    this.session = null;
    localStorage.removeItem(this.storageKey);
  }

  /**
   * One request. `body` is sent as JSON unless it is a Blob (sent as is, with its type).
   * `idempotencyKey` makes a retried command safe: the server applies it once.
   */
  async request(method, path, { body, idempotencyKey, anonymous = false, signal } = {}) {
    const headers = { Accept: "application/json" };
    if (!anonymous && this.token) headers.Authorization = `Bearer ${this.token}`;
    if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
    let payload;
    if (body instanceof Blob) {
      payload = body;
      headers["Content-Type"] = body.type || "application/octet-stream";
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers["Content-Type"] = "application/json";
    }
    let response;
    try {
      response = await fetch(path, { method, headers, body: payload, signal, cache: "no-store" });
    } catch (exc) {
      if (exc && exc.name === "AbortError") throw exc;
      throw new ApiError(0, "offline", "the server cannot be reached");
    }
    if (response.status === 204) return null;
    let data = null;
    const text = await response.text();
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (!response.ok) {
      const error = (data && data.error) || {};
      const failure = new ApiError(
        response.status,
        error.code || `http_${response.status}`,
        error.message || response.statusText || "request failed",
        error.params || {},
      );
      // A gateway answering for a server that is down is "offline" too, not the server's verdict.
      if ([502, 503, 504].includes(response.status) && !error.code) failure.status = 0;
      if (response.status === 401 && !anonymous) {
        this.forget();
        this.dispatchEvent(new CustomEvent("unauthenticated", { detail: failure }));
      }
      throw failure;
    }
    return data;
  }

  get(path, options) {
    return this.request("GET", path, options);
  }

  post(path, body, options = {}) {
    return this.request("POST", path, { ...options, body });
  }
}

/** A random idempotency key (UUID v4 where the browser offers it). */
export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
