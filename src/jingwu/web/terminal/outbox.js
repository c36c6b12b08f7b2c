// The outbox: every action the officer takes (status, note, backup, photo) is written to IndexedDB
// first and then sent, one at a time, oldest first. So an action taken offline survives a reload and
// goes out when the connection returns, and an action taken online never overtakes older ones.
//
// Exactly once: each action gets an idempotency key when the officer taps, stored with it. Every
// attempt sends the same key (`Idempotency-Key`), so when an answer is lost after the server
// applied the action, the retry is answered with the first result instead of applying it again.
//
// A network failure (or a server that is down) stops the flush and keeps the action; a 4xx answer
// is the server's verdict, so the action is dropped and the officer is told why.

import { ApiError, newKey } from "/static/shared/api.js";

const DB_NAME = "jingwu-terminal";
const DB_VERSION = 1;
const STORE = "outbox";
const LOCK = "jingwu-terminal-outbox";
const RETRY_MS = [2000, 5000, 10000, 20000, 30000];
const MAX_SERVER_ERRORS = 5; // 500/501 answers before an action is given up (a bug, not an outage)

function done(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function committed(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = tx.onerror = () => reject(tx.error || new Error("IndexedDB transaction failed"));
  });
}

/** Queued actions in IndexedDB (they survive a reload and a browser restart). */
class IdbStore {
  constructor(db) {
    this.db = db;
    this.persistent = true;
  }

  static async open() {
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = () => {
      request.result.createObjectStore(STORE, { keyPath: "seq", autoIncrement: true });
    };
    return new IdbStore(await done(request));
  }

  _tx(mode) {
    // "strict": the action is on disk before we tell the officer it is saved.
    const tx = this.db.transaction(STORE, mode, mode === "readwrite" ? { durability: "strict" } : undefined);
    return [tx, tx.objectStore(STORE)];
  }

  async add(entry) {
    const [tx, store] = this._tx("readwrite");
    const seq = await done(store.add(entry));
    await committed(tx);
    return seq;
  }

  async put(entry) {
    const [tx, store] = this._tx("readwrite");
    store.put(entry);
    await committed(tx);
  }

  async remove(seq) {
    const [tx, store] = this._tx("readwrite");
    store.delete(seq);
    await committed(tx);
  }

  /** Every entry, oldest first (keys are increasing). */
  async all() {
    const [, store] = this._tx("readonly");
    return done(store.getAll());
  }
}

/** The fallback where IndexedDB is unavailable (some private modes): same order, lost on reload. */
class MemoryStore {
  constructor() {
    this.rows = [];
    this.next = 1;
    this.persistent = false;
  }

  async add(entry) {
    const seq = this.next++;
    this.rows.push({ ...entry, seq });
    return seq;
  }

  async put(entry) {
    const i = this.rows.findIndex((r) => r.seq === entry.seq);
    if (i >= 0) this.rows[i] = { ...entry };
  }

  async remove(seq) {
    this.rows = this.rows.filter((r) => r.seq !== seq);
  }

  async all() {
    return this.rows.map((r) => ({ ...r }));
  }
}

/** Is this failure worth retrying later (keep the action) rather than the server's verdict? */
function transient(exc) {
  if (!(exc instanceof ApiError)) return true; // e.g. IndexedDB hiccup: try again later
  if (exc.status === 0 || exc.status === 401 || exc.status === 408 || exc.status === 429) return true;
  // The server is still running the first attempt of this very action (its answer got lost).
  if (exc.code === "idempotency_in_progress") return true;
  return exc.status >= 500;
}

export class Outbox extends EventTarget {
  /**
   * @param {import("/static/shared/api.js").Api} api
   * @param {{owner: () => string | null,
   *          beforeSend?: (entry) => Promise<ApiError | null> | ApiError | null}} options
   *   owner: the user whose actions are sent (each officer's actions go out under their own
   *   session only); beforeSend: a last check, returning an error drops the action.
   *
   * Events: "change" (the queue changed), "sent" {entry, result}, "dropped" {entry, error},
   * "failure" {error} (a transient failure stopped the flush).
   */
  constructor(api, { owner, beforeSend } = {}) {
    super();
    this.api = api;
    this.owner = owner;
    this.beforeSend = beforeSend || (() => null);
    this.store = null;
    this.entries = []; // the current owner's queued actions, oldest first
    this._flushing = null;
    this._again = false;
    this._retryTimer = null;
    this._retries = 0;
  }

  async open() {
    try {
      if (!("indexedDB" in window)) throw new Error("no IndexedDB");
      this.store = await IdbStore.open();
    } catch {
      this.store = new MemoryStore();
    }
    await this.refresh();
  }

  get persistent() {
    return Boolean(this.store && this.store.persistent);
  }

  async refresh() {
    const owner = this.owner();
    const rows = this.store ? await this.store.all() : [];
    this.entries = rows.filter((e) => e.owner === owner);
    this.dispatchEvent(new Event("change"));
  }

  /** How many actions of the current officer wait to be sent. */
  async count() {
    await this.refresh();
    return this.entries.length;
  }

  /**
   * Queue one action and start sending. The idempotency key is made here, when the officer taps.
   * @param {{kind: string, method?: string, path: string, body?: object | Blob,
   *          unit_id?: string, incident_id?: string | null, status?: string, label?: object}} action
   */
  async add(action) {
    const entry = {
      method: "POST",
      ...action,
      key: newKey(),
      owner: this.owner(),
      created_at: new Date().toISOString(),
      attempts: 0,
    };
    entry.seq = await this.store.add(entry);
    await this.refresh();
    this.flush();
    return entry;
  }

  /** Send queued actions in order, one at a time; resolves when the queue is empty or stuck. */
  flush() {
    if (this._flushing) {
      this._again = true;
      return this._flushing;
    }
    clearTimeout(this._retryTimer);
    this._retryTimer = null;
    this._flushing = (async () => {
      try {
        do {
          this._again = false;
          await this._locked();
        } while (this._again && !this._retryTimer);
      } finally {
        this._flushing = null;
      }
    })();
    return this._flushing;
  }

  async _locked() {
    // Two tabs of the terminal must not send the same queue side by side.
    if (navigator.locks && navigator.locks.request) await navigator.locks.request(LOCK, () => this._drain());
    else await this._drain();
  }

  async _drain() {
    for (;;) {
      const owner = this.owner();
      if (!owner || !this.api.token) return;
      const rows = await this.store.all();
      const entry = rows.find((e) => e.owner === owner);
      if (!entry) {
        this._retries = 0;
        await this.refresh();
        return;
      }
      let result;
      try {
        const refusal = await this.beforeSend(entry);
        if (refusal) throw refusal;
        result = await this.api.request(entry.method, entry.path, {
          body: entry.body === null ? undefined : entry.body,
          idempotencyKey: entry.key,
        });
      } catch (exc) {
        const serverBug = exc instanceof ApiError && (exc.status === 500 || exc.status === 501);
        if (transient(exc) && !(serverBug && entry.attempts + 1 >= MAX_SERVER_ERRORS)) {
          if (serverBug) await this.store.put({ ...entry, attempts: entry.attempts + 1 });
          this.dispatchEvent(new CustomEvent("failure", { detail: { error: exc, entry } }));
          if (exc.status !== 401) this._scheduleRetry();
          await this.refresh();
          return;
        }
        await this.store.remove(entry.seq);
        await this.refresh();
        this.dispatchEvent(new CustomEvent("dropped", { detail: { entry, error: exc } }));
        continue;
      }
      this._retries = 0;
      // Tell the app first, while the entry still counts as queued: the status it shows moves
      // straight from "pending" to the server's answer, without flickering back in between.
      // (Should the removal below fail, the retry carries the same key and changes nothing.)
      this.dispatchEvent(new CustomEvent("sent", { detail: { entry, result } }));
      await this.store.remove(entry.seq);
      await this.refresh();
    }
  }

  _scheduleRetry() {
    const delay = RETRY_MS[Math.min(this._retries, RETRY_MS.length - 1)];
    this._retries += 1;
    clearTimeout(this._retryTimer);
    this._retryTimer = setTimeout(() => {
      this._retryTimer = null;
      this.flush();
    }, delay);
  }
}
