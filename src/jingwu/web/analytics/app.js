// The analytics page (大数据研判): CompStat, response times, the heat map and the hotspot forecast
// with its scores, over the bureau's own incidents or an imported dataset, for a period the analyst
// picks; imports for those who may. This shell logs in (the console's session, as the station desk
// does), keeps the pickers, and asks each section to fetch and draw; one module per section.

import { Api } from "/static/shared/api.js";
import { I18n } from "/static/shared/i18n.js";
import { CompStatSection } from "./compstat.js";
import { HeatSection } from "./heat.js";
import { AnalyticsMap } from "./heatmap.js";
import { HotspotPanel } from "./hotspots.js";
import { ImportSection } from "./imports.js";
import { INPUT_TYPES, KINDS, anchorOf, defaultAnchor, monthOf, periodText, valueFor } from "./periods.js";
import { ResponseSection } from "./response.js";
import { STRINGS } from "./strings.js";

const $ = (id) => document.getElementById(id);
/** Refusals that are about the period itself: said once above the sections, not in each. */
const PERIOD_CODES = new Set(["bad_period", "period_outside_data", "period_finer_than_data", "no_records"]);
const PERIOD_SECTIONS = ["compstat", "times", "heat"];

/** The account may not read analytics (the page says so at log-in). */
class NoPermission extends Error {}

export class AnalyticsPage {
  constructor() {
    this.i18n = new I18n(STRINGS);
    this.api = new Api("jingwu.console.session"); // the console's session: one log-in for all desks
    this.permissions = new Set();
    this.datasets = [];
    this.stations = [];
    this.sections = {};
    this.tokens = {};
    this.periodFailure = null;
    this.i18n.apply(document);
    document.title = this.i18n.t("app.tab");
    for (const button of document.querySelectorAll(".lang-toggle")) {
      button.addEventListener("click", () => this.i18n.setLang(this.i18n.lang === "zh-CN" ? "en" : "zh-CN"));
    }
    this.i18n.addEventListener("change", () => this.renderAll());
    $("login-form").addEventListener("submit", (e) => {
      e.preventDefault();
      this.login();
    });
    $("logout-btn").addEventListener("click", async () => {
      await this.api.logout();
      location.reload();
    });
    $("report-link").addEventListener("click", (e) => {
      e.preventDefault();
      this.downloadReport();
    });
    this.api.addEventListener("unauthenticated", () => this.showLogin());
  }

  t(key, params) {
    return this.i18n.t(key, params);
  }

  async boot() {
    if (!this.api.token) return this.showLogin();
    try {
      await this.start(await this.api.get("/api/auth/me"));
    } catch (exc) {
      // The session is the console's: one without analytics.read stays for the console to use.
      this.showLogin(exc.code ? this.i18n.error(exc) : exc.message);
    }
  }

  async login() {
    const error = $("login-error");
    error.hidden = true;
    try {
      const totp = $("totp").value.trim() || null;
      await this.api.login($("username").value.trim(), $("password").value, totp);
      $("password").value = "";
      await this.start(await this.api.get("/api/auth/me"));
    } catch (exc) {
      // A session opened here for an account that may not use the page is of no use: end it.
      if (exc instanceof NoPermission) await this.api.logout();
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
    this.permissions = new Set(me.permissions || []);
    if (!this.permissions.has("analytics.read")) throw new NoPermission(this.t("login.no_analytics"));
    $("whoami").textContent = me.username;
    document.body.classList.remove("logged-out");
    if (this.started) return this.refresh();
    this.started = true;
    this.map = new AnalyticsMap($("map"));
    this.sections = {
      compstat: new CompStatSection(this, $("compstat")),
      times: new ResponseSection(this, $("times")),
      heat: new HeatSection(this, $("heat-panel"), this.map),
      hotspots: new HotspotPanel(this, $("hotspot-panel"), this.map),
    };
    if (this.permissions.has("analytics.import")) {
      this.sections.imports = new ImportSection(this, $("imports"));
      $("imports").hidden = false;
    }
    this.wirePickers();
    const base = this.map.load(this.api).catch((exc) => console.warn("base map not loaded", exc));
    try {
      this.stations = await this.api.get("/api/stations");
    } catch {
      this.stations = []; // the rows then show station ids instead of names
    }
    await this.reloadDatasets();
    this.setAnchor(defaultAnchor(this.currentDataset()));
    await Promise.all([this.refresh(), base]);
  }

  // ------------------------------------------------------------------------------- the pickers

  wirePickers() {
    const kind = $("period-kind");
    kind.replaceChildren(...KINDS.map((k) => new Option(this.t(`kind.${k}`), k)));
    kind.value = "month";
    kind.addEventListener("change", () => this.setAnchor(this.anchor, { refresh: true }));
    $("period-value").addEventListener("change", () => {
      const anchor = anchorOf(kind.value, $("period-value").value);
      if (!anchor) return;
      this.anchor = anchor;
      this.sections.hotspots.follow(monthOf(anchor), this.currentDataset());
      this.refresh();
    });
    $("dataset").addEventListener("change", () => {
      this.setAnchor(defaultAnchor(this.currentDataset()), { refresh: true });
    });
  }

  /** Show the period that ends on `anchor` in the current kind (and the forecast's month with it). */
  setAnchor(anchor, { refresh = false } = {}) {
    this.anchor = anchor;
    const kind = $("period-kind").value;
    const input = $("period-value");
    input.type = INPUT_TYPES[kind];
    input.value = valueFor(kind, anchor);
    this.sections.hotspots.follow(monthOf(anchor), this.currentDataset());
    if (refresh) this.refresh();
  }

  query() {
    const kind = $("period-kind").value;
    return { period: periodText(kind, $("period-value").value), dataset: $("dataset").value || "jingwu" };
  }

  currentDataset() {
    const name = $("dataset").value;
    return this.datasets.find((d) => d.name === name) || this.datasets[0] || null;
  }

  /** The datasets again (after an import or a removal); `select` names one to switch to. */
  async reloadDatasets(select = null) {
    const before = $("dataset").value;
    this.datasets = await this.api.get("/api/analytics/datasets");
    const names = this.datasets.map((d) => d.name);
    $("dataset").replaceChildren(
      ...this.datasets.map((d) => new Option(d.own ? `${d.name} · ${this.t("dataset.own")}` : d.name, d.name)),
    );
    const wanted = select || before;
    $("dataset").value = names.includes(wanted) ? wanted : names[0] || "";
    if (this.sections.imports) this.sections.imports.renderList();
    // Another dataset shown (the one just imported into, or the first after a removal): open it
    // at its own last month.
    if (select || (before && $("dataset").value !== before)) {
      this.setAnchor(defaultAnchor(this.currentDataset()), { refresh: true });
    }
  }

  // ------------------------------------------------------------------------------- loading

  /** Fetch and draw the named sections (all by default); an answer overtaken by a newer request
   * for the same section is dropped. */
  async refresh(names = ["compstat", "times", "heat", "hotspots"]) {
    const query = this.query();
    this.updateReportLink(query);
    const dataset = this.currentDataset();
    const jobs = names.map(async (name) => {
      const token = (this.tokens[name] = (this.tokens[name] || 0) + 1);
      const section = this.sections[name];
      const result = await section.fetch(query, dataset);
      return { name, token, result };
    });
    const done = (await Promise.all(jobs)).filter(({ name, token }) => this.tokens[name] === token);
    const compstat = done.find((d) => d.name === "compstat");
    if (compstat) {
      const failure = compstat.result.failure;
      this.periodFailure = failure && PERIOD_CODES.has(failure.code) ? failure : null;
      this.renderPeriodError();
    }
    for (const { name, result } of done) this.sections[name].show(result);
    $("main").dataset.loaded = String((Number($("main").dataset.loaded) || 0) + 1);
  }

  /** Whether a section's own error is already said by the period's (shown once, above). */
  periodSaid(name) {
    return Boolean(this.periodFailure) && PERIOD_SECTIONS.includes(name);
  }

  renderPeriodError() {
    const node = $("period-error");
    node.hidden = !this.periodFailure;
    node.textContent = this.periodFailure ? this.errorText(this.periodFailure) : "";
  }

  renderAll() {
    document.title = this.t("app.tab");
    const kind = $("period-kind");
    if (kind.options.length) {
      const chosen = kind.value;
      kind.replaceChildren(...KINDS.map((k) => new Option(this.t(`kind.${k}`), k)));
      kind.value = chosen;
      this.updateReportLink(this.query());
    }
    for (const option of $("dataset").options) {
      const d = this.datasets.find((x) => x.name === option.value);
      if (d) option.textContent = d.own ? `${d.name} · ${this.t("dataset.own")}` : d.name;
    }
    this.renderPeriodError();
    for (const section of Object.values(this.sections)) section.render();
  }

  // ------------------------------------------------------------------------------- the report

  updateReportLink({ period, dataset }) {
    const query = new URLSearchParams({ period, dataset, lang: this.i18n.lang === "en" ? "en" : "zh" });
    $("report-link").href = `/api/analytics/report.pdf?${query}`;
  }

  /** The report needs the session's bearer token, which a plain link cannot send: fetch it and
   * hand the browser the file. */
  async downloadReport() {
    const link = $("report-link");
    link.setAttribute("aria-busy", "true");
    try {
      const response = await fetch(link.href, { headers: { Authorization: `Bearer ${this.api.token}` }, cache: "no-store" });
      if (response.status === 401) {
        this.api.forget();
        this.showLogin(this.t("error.session_idle"));
        return;
      }
      if (!response.ok) {
        let error = {};
        try {
          error = (await response.json()).error || {};
        } catch {
          // not JSON: the status says enough
        }
        this.notice(this.errorText({ code: error.code || `http_${response.status}`, message: error.message, params: error.params }));
        return;
      }
      const url = URL.createObjectURL(await response.blob());
      const save = document.createElement("a");
      const { period, dataset } = this.query();
      save.href = url;
      save.download = `jingwu-analytics-${dataset}-${period.replace(":", "-")}.pdf`;
      document.body.append(save);
      save.click();
      save.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch {
      this.notice(this.t("error.offline"));
    } finally {
      link.removeAttribute("aria-busy");
    }
  }

  // ------------------------------------------------------------------------------- words

  /** An API refusal in plain words, with the dataset's span where the period is the trouble. */
  errorText(exc) {
    if (!exc.code) return exc.message || String(exc);
    const d = this.currentDataset();
    const params = {
      ...(exc.params || {}),
      message: exc.message || "",
      dataset: (exc.params && exc.params.dataset) || (d ? d.name : ""),
      first: d && d.first ? d.first.slice(0, 10) : "—",
      last: d && d.last ? d.last.slice(0, 10) : "—",
    };
    if (Array.isArray(params.columns)) params.columns = params.columns.join(", ");
    const key = `error.${exc.code}`;
    const text = this.t(key, params);
    return text === key ? exc.message || exc.code : text;
  }

  /** A row's key as people read it: a station's name, not its id. */
  keyLabel(by, key) {
    if (key === "(none)") return this.t("key.none");
    if (by === "station") {
      const station = this.stations.find((s) => s.id === key);
      if (station) return station.name;
    }
    return key;
  }

  priorityName(priority) {
    const key = `priority.${priority}`;
    const text = this.t(key);
    return text === key ? String(priority) : text;
  }

  notice(text) {
    const node = $("notice");
    node.textContent = text;
    node.hidden = false;
    clearTimeout(this._noticeTimer);
    this._noticeTimer = setTimeout(() => (node.hidden = true), 6000);
  }
}

const page = new AnalyticsPage();
window.jingwuAnalytics = page; // for the browser tests
page.boot();
