// The station desk (派出所工作台): the community's work reviewed and run at the station — the
// registry's field collections and conflicts, watch lists and checks, disputes, residents'
// applications, the analysts' models' early warnings. One module per tab (./<name>.js); this shell
// logs in, loads the tabs the account's permissions show, and carries what they share. A tab that
// fails to load is left out.

import { Api } from "/static/shared/api.js";
import { I18n } from "/static/shared/i18n.js";
import { STRINGS } from "./strings.js";

/** The tab modules, in order; each is /static/station/<name>.js and names the permission it needs. */
export const DESK_MODULES = ["records", "disputes", "applications", "watchlists", "warnings", "security"];

const $ = (id) => document.getElementById(id);

export class Desk {
  constructor() {
    this.i18n = new I18n(STRINGS);
    this.api = new Api("jingwu.console.session"); // the console's session: one log-in for all desks
    this.stations = [];
    this.permissions = new Set();
    this.jurisdiction = "city";
    this.me = null;
    this.tabs = []; // [{id, title, handle: {element, refresh, render}}]
    this.current = null;
    this.i18n.apply(document);
    document.title = this.i18n.t("app.tab");
    for (const button of document.querySelectorAll(".lang-toggle")) {
      button.addEventListener("click", () => this.i18n.setLang(this.i18n.lang === "zh-CN" ? "en" : "zh-CN"));
    }
    this.i18n.addEventListener("change", () => {
      document.title = this.i18n.t("app.tab");
      this.renderTabs();
      for (const tab of this.tabs) tab.handle.render();
    });
    $("login-form").addEventListener("submit", (e) => {
      e.preventDefault();
      this.login();
    });
    $("logout-btn").addEventListener("click", async () => {
      await this.api.logout();
      location.reload();
    });
    this.api.addEventListener("unauthenticated", () => this.showLogin());
  }

  async boot() {
    if (!this.api.token) return this.showLogin();
    try {
      await this.start(await this.api.get("/api/auth/me"));
    } catch (exc) {
      this.showLogin(exc.offline ? this.i18n.error(exc) : exc.message);
    }
  }

  async login() {
    const error = $("login-error");
    error.hidden = true;
    try {
      const totp = $("totp").value.trim() || null;
      await this.api.login($("username").value.trim(), $("password").value, totp);
      await this.start(await this.api.get("/api/auth/me"));
    } catch (exc) {
      if (exc.code === "totp_required") $("totp-row").hidden = false;
      error.textContent = exc.code ? this.i18n.error(exc) : exc.message;
      error.hidden = false;
    }
  }

  showLogin(message = null) {
    document.body.classList.add("logged-out");
    const error = $("login-error");
    error.textContent = message || "";
    error.hidden = !message;
  }

  async start(me) {
    this.me = me;
    this.permissions = new Set(me.permissions || []);
    this.jurisdiction = me.jurisdiction || "city";
    const modules = [];
    for (const name of DESK_MODULES) {
      const module = await this._load(name);
      if (module && this.permissions.has(module.needs)) modules.push(module);
    }
    if (!modules.length) {
      this.api.forget();
      throw new Error(this.i18n.t("login.no_desk"));
    }
    $("whoami").textContent = me.username;
    document.body.classList.remove("logged-out");
    try {
      this.stations = await this.api.get("/api/stations");
    } catch {
      this.stations = [];
    }
    for (const module of modules) {
      try {
        const handle = module.create(this);
        handle.element.classList.add("tab");
        handle.element.id = `tab-${module.id}`;
        handle.element.hidden = true;
        $("main").append(handle.element);
        this.tabs.push({ id: module.id, title: module.title, handle });
      } catch (exc) {
        console.error(`station desk tab ${module.id} failed to start`, exc);
      }
    }
    $("empty").hidden = this.tabs.length > 0;
    this.renderTabs();
    const wanted = location.hash.slice(1);
    const first = this.tabs.find((t) => t.id === wanted) || this.tabs[0];
    if (first) await this.show(first.id);
  }

  async _load(name) {
    try {
      const module = (await import(`/static/station/${name}.js`)).default;
      if (module && module.strings) this.i18n.extend(module.strings);
      return module;
    } catch (exc) {
      console.warn(`station desk tab ${name} is not available`, exc);
      return null;
    }
  }

  renderTabs() {
    const buttons = this.tabs.map((tab) => {
      const button = document.createElement("button");
      button.type = "button";
      button.role = "tab";
      button.dataset.tab = tab.id;
      button.setAttribute("aria-selected", String(this.current === tab.id));
      button.textContent = tab.title[this.i18n.lang] || tab.title["zh-CN"];
      button.addEventListener("click", () => this.show(tab.id));
      return button;
    });
    $("tabs").replaceChildren(...buttons);
  }

  async show(id) {
    const tab = this.tabs.find((t) => t.id === id);
    if (!tab) return;
    this.current = id;
    for (const other of this.tabs) other.handle.element.hidden = other !== tab;
    history.replaceState(null, "", `#${id}`);
    this.renderTabs();
    try {
      await tab.handle.refresh();
    } catch (exc) {
      this.notice(exc.code ? this.errorText(exc) : exc.message);
    }
  }

  /** Whether the logged-in user's jurisdiction holds a station (the only ones their forms offer). */
  holds(station) {
    const [level, name] = String(this.jurisdiction).split(/:(.*)/s);
    if (level === "district") return station.district === name;
    if (level === "station") return station.id === name;
    return level === "city";
  }

  stationName(id) {
    const found = this.stations.find((s) => s.id === id);
    return found ? found.name : id || "—";
  }

  /** An API refusal as a sentence, with its message and parameters in the words. */
  errorText(exc) {
    const key = `error.${exc.code}`;
    const text = this.i18n.t(key, { ...(exc.params || {}), message: exc.message || "" });
    return text === key ? this.i18n.error(exc) : text;
  }

  notice(text) {
    const node = $("notice");
    node.textContent = text;
    node.hidden = false;
    clearTimeout(this._noticeTimer);
    this._noticeTimer = setTimeout(() => (node.hidden = true), 4000);
  }
}

const desk = new Desk();
window.jingwuDesk = desk; // for the browser tests
desk.boot();
