// The live event stream (WebSocket /api/events), kept open for as long as the page lives.
//
// A dropped connection is retried with growing back-off (and at once when the browser says it is
// online again); it resumes with ?after=<last durable event id>, so the server replays what
// happened meanwhile. Position batches are not replayed, so every reconnection also asks the app
// to resynchronise what is not in the log (unit positions).

const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 10000];

export class LiveStream {
  /**
   * @param {import("./api.js").Api} api
   * @param {{onEvent: (e: object) => void, onStatus?: (s: string) => void,
   *          onResync?: (why: string) => Promise<void> | void, onUnauthenticated?: () => void}} handlers
   *   onResync(why): "reset" — reload all state (the server does not know our last id);
   *                  "reconnect" — the log was replayed, refresh what the log does not hold.
   */
  constructor(api, handlers) {
    this.api = api;
    this.handlers = handlers;
    this.lastId = null;
    this.status = "offline";
    this.socket = null;
    this.attempt = 0;
    this.timer = null;
    this.stopped = true;
    this.connectedOnce = false;
    this._online = () => this._retryNow();
  }

  /** Start streaming; `lastId` is the id of the newest event already reflected in the app's state. */
  start(lastId) {
    this.lastId = lastId ?? this.lastId;
    this.stopped = false;
    window.addEventListener("online", this._online);
    this._connect();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener("online", this._online);
    clearTimeout(this.timer);
    if (this.socket) this.socket.close(1000, "bye");
    this.socket = null;
    this._setStatus("offline");
  }

  _setStatus(status) {
    if (status === this.status) return;
    this.status = status;
    if (this.handlers.onStatus) this.handlers.onStatus(status);
  }

  _url() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const params = new URLSearchParams({ access_token: this.api.token || "" });
    if (this.lastId !== null && this.lastId !== undefined) params.set("after", String(this.lastId));
    return `${scheme}://${location.host}/api/events?${params}`;
  }

  _connect() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this._setStatus(this.connectedOnce ? "reconnecting" : "connecting");
    let socket;
    try {
      socket = new WebSocket(this._url());
    } catch {
      this._scheduleRetry();
      return;
    }
    this.socket = socket;
    // Events that arrive while a resync is loading are held and applied after it, in order.
    // Everything below checks that its socket is still the current one: a slow resync of a
    // connection that has since dropped must not land on top of a newer connection's events.
    let held = null;
    const current = () => this.socket === socket;
    socket.onmessage = async (message) => {
      if (!current()) return;
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return;
      }
      if (event.type === "hello") {
        this.attempt = 0;
        const wasConnected = this.connectedOnce;
        this.connectedOnce = true;
        this._setStatus("live");
        if (event.reset || this.lastId === null || wasConnected) {
          const why = event.reset || this.lastId === null ? "reset" : "reconnect";
          const before = this.lastId;
          if (why === "reset") this.lastId = event.last_event_id;
          if (this.handlers.onResync) {
            held = [];
            try {
              await this.handlers.onResync(why);
            } catch {
              // The state could not be loaded: forget this connection and try again, from where
              // we were, rather than stream on top of a state we do not have.
              if (current()) {
                this.lastId = before;
                socket.close(4000, "resync failed");
              }
              return;
            }
            if (!current()) return;
            const queued = held;
            held = null;
            for (const e of queued) this._deliver(e);
          }
        }
        return;
      }
      if (held) held.push(event);
      else this._deliver(event);
    };
    socket.onclose = (close) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.stopped) return;
      if (close.code === 4401) {
        this._setStatus("offline");
        this.stopped = true;
        if (this.handlers.onUnauthenticated) this.handlers.onUnauthenticated();
        return;
      }
      if (close.code === 4422) this.lastId = null; // our resume id is unusable: reload everything
      this._setStatus("offline");
      this._scheduleRetry();
    };
    socket.onerror = () => {
      // onclose follows and decides.
    };
  }

  _deliver(event) {
    if (typeof event.id === "number") {
      if (this.lastId !== null && event.id <= this.lastId) return; // already applied
      this.lastId = event.id;
    }
    this.handlers.onEvent(event);
  }

  _scheduleRetry() {
    const base = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    this.attempt += 1;
    const delay = base / 2 + Math.random() * (base / 2);
    this.timer = setTimeout(() => this._connect(), delay);
  }

  _retryNow() {
    if (this.stopped || this.socket) return;
    this.attempt = 0;
    this._connect();
  }
}
