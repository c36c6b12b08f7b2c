// The administration page: stations (drawn or imported jurisdictions), units, personnel and the
// roster, over the same REST API as everything else. One module per tab; this one logs in, shows
// the tabs the role may use, and carries the helpers they share.

import { Api } from "/static/shared/api.js";
import { I18n } from "/static/shared/i18n.js";
import { StationsTab } from "./stations.js";
import { PeopleTab, UnitsTab } from "./fleet.js";
import { RosterTab } from "./roster.js";
import { CAMERA_STRINGS, CamerasTab } from "./cameras.js";
import { STRINGS } from "./strings.js";
import { option } from "./ui.js";

const $ = (id) => document.getElementById(id);
const ADMIN_PERMISSIONS = ["station.admin", "fleet.admin", "personnel.admin", "roster.admin", "camera.admin"];

/** What the tabs share: the API, the words, the stations, and how to show a result. */
export class Admin {
  constructor() {
    this.i18n = new I18n(STRINGS);
    this.i18n.extend(CAMERA_STRINGS);
    this.api = new Api("jingwu.console.session"); // the console's session: one log-in for both
    this.stations = [];
    this.permissions = new Set();
    this.tabs = {};
    this.i18n.apply(document);
    document.title = this.i18n.t("app.tab");
    for (const button of document.querySelectorAll(".lang-toggle")) {
      button.addEventListener("click", () => this.i18n.setLang(this.i18n.lang === "zh-CN" ? "en" : "zh-CN"));
    }
    this.i18n.addEventListener("change", () => {
      document.title = this.i18n.t("app.tab");
      for (const tab of Object.values(this.tabs)) tab.render();
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
    for (const button of document.querySelectorAll("[data-tab]")) {
      button.addEventListener("click", () => this.show(button.dataset.tab));
    }
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
      error.textContent = this.i18n.error(exc);
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
    this.permissions = new Set(me.permissions || []);
    if (!ADMIN_PERMISSIONS.some((p) => this.permissions.has(p))) {
      this.api.forget();
      throw new Error(this.i18n.t("login.no_admin"));
    }
    this.jurisdiction = me.jurisdiction || "city";
    $("whoami").textContent = me.username;
    document.body.classList.remove("logged-out");
    for (const node of document.querySelectorAll("[data-needs]")) node.hidden = !this.permissions.has(node.dataset.needs);
    await this.loadStations();
    this.tabs = {
      stations: new StationsTab(this),
      units: new UnitsTab(this),
      people: new PeopleTab(this),
      roster: new RosterTab(this),
      cameras: new CamerasTab(this),
    };
    const first = [...document.querySelectorAll("[data-tab]")].find((b) => !b.hidden);
    const wanted = location.hash.slice(1);
    this.show(this.tabs[wanted] && this.can(wanted) ? wanted : first.dataset.tab);
  }

  can(tab) {
    const button = document.querySelector(`[data-tab="${tab}"]`);
    return Boolean(button && !button.hidden);
  }

  async show(name) {
    for (const button of document.querySelectorAll("[data-tab]")) {
      button.setAttribute("aria-selected", String(button.dataset.tab === name));
    }
    for (const section of document.querySelectorAll(".tab")) section.hidden = section.id !== `tab-${name}`;
    history.replaceState(null, "", `#${name}`);
    await this.tabs[name].refresh();
  }

  /** The stations in reach, for every station picker (the reference list: retired ones left out). */
  async loadStations() {
    this.stations = await this.api.get("/api/stations");
    const mine = this.stations.filter((s) => this.holds(s));
    for (const select of document.querySelectorAll("select[data-stations]")) {
      const current = select.value;
      select.replaceChildren(...mine.map((s) => option(s.id, s.name)));
      if (current) select.value = current;
    }
  }

  /** Whether the logged-in user's jurisdiction holds a station: the only ones their forms offer. */
  holds(station) {
    const [level, name] = String(this.jurisdiction).split(/:(.*)/s);
    if (level === "district") return station.district === name;
    if (level === "station") return station.id === name;
    return level === "city";
  }

  stationName(id) {
    const found = this.stations.find((s) => s.id === id);
    return found ? found.name : id;
  }

  /** An API refusal as a sentence, with its message and parameters in the words. */
  errorText(exc) {
    const params = { ...(exc.params || {}), message: exc.message || "" };
    if (Array.isArray(params.stations)) params.stations = params.stations.map((s) => this.stationName(s)).join("、");
    const key = `error.${exc.code}`;
    const text = this.i18n.t(key, params);
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

const admin = new Admin();
window.jingwuAdmin = admin; // for the browser tests
admin.boot();
