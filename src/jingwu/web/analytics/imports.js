// Imports (数据导入), for holders of analytics.import: another force's or year's CSV export sent
// as it is (the server reads it through the format's column mapping), the report of what was
// read, kept and left out (by reason, with line numbers), and the datasets with a remove button.

import { el, number, table } from "./dom.js";

export const FORMATS = ["police-uk", "nopd", "berkeley"];
const CONFIRM_MS = 4000;

export class ImportSection {
  /** @param {import("./app.js").AnalyticsPage} page */
  constructor(page, root) {
    this.page = page;
    this.root = root;
    this.done = null;
    this.failure = null;
    this.form = root.querySelector("#import-form");
    this.format = root.querySelector("#import-format");
    this.report = root.querySelector(".import-report");
    this.list = root.querySelector(".dataset-list");
    this.error = this.form.querySelector(".error");
    this.format.replaceChildren(...FORMATS.map((f) => el("option", { value: f, textContent: f })));
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.upload();
    });
  }

  async upload() {
    const name = this.form.elements.dataset.value.trim();
    const file = this.form.elements.file.files[0];
    if (!file) return;
    const button = this.form.querySelector("button[type=submit]");
    button.disabled = true;
    this.error.hidden = true;
    try {
      const query = new URLSearchParams({ format: this.format.value, filename: file.name });
      // The file goes as it is: the server reads its header and rows, and refuses it whole if the
      // format's columns are missing.
      const body = new Blob([file], { type: "text/csv" });
      this.done = await this.page.api.post(`/api/analytics/datasets/${encodeURIComponent(name)}/files?${query}`, body);
      this.failure = null;
      await this.page.reloadDatasets(name);
    } catch (exc) {
      this.done = null;
      this.failure = exc;
    } finally {
      button.disabled = false;
    }
    this.render();
  }

  render() {
    const { page } = this;
    const t = (key, params) => page.t(key, params);
    const { lang } = page.i18n;
    this.error.hidden = !this.failure;
    this.error.textContent = this.failure ? page.errorText(this.failure) : "";
    // A file refused for having no good row still has its report (nothing_to_import).
    const report = this.done ? this.done.records : this.failure && this.failure.params && this.failure.params.report;
    if (!report) {
      this.report.replaceChildren();
    } else {
      const parts = [
        el("h3", { textContent: this.done ? t("import.done", { dataset: this.done.dataset }) : t("import.refused") }),
        el(
          "p",
          { className: "import-counts" },
          t("import.counts", {
            read: number(report.read, lang),
            loaded: number(report.loaded, lang),
            bad: number(report.bad, lang),
            unlocated: number(report.without_coordinates, lang),
          }),
        ),
        report.bad_by_reason.length
          ? table(
              [t("import.reason"), t("import.column"), t("import.count"), t("import.lines")],
              report.bad_by_reason.map((b) => [
                t(`bad.${b.reason}`) === `bad.${b.reason}` ? b.reason : t(`bad.${b.reason}`),
                b.column,
                number(b.count, lang),
                b.lines.join(", ") + (b.count > b.lines.length ? " …" : ""),
              ]),
              { className: "list figures bad-rows" },
            )
          : null,
      ];
      this.report.replaceChildren(...parts.filter(Boolean));
    }
    this.renderList();
  }

  renderList() {
    const { page } = this;
    const t = (key, params) => page.t(key, params);
    const { lang } = page.i18n;
    const rows = page.datasets.map((d) => {
      const actions = el("td", { className: "actions" });
      if (!d.own) {
        const remove = el("button", { type: "button", className: "danger", textContent: t("import.remove"), dataset: { dataset: d.name } });
        remove.addEventListener("click", () => this.remove(d.name, remove));
        actions.append(remove);
      }
      return el(
        "tr",
        {},
        el("td", { textContent: d.own ? `${d.name} · ${t("dataset.own")}` : d.name }),
        el("td", { className: "num", textContent: number(d.records, lang) }),
        el("td", { textContent: d.first ? `${d.first.slice(0, 10)} – ${d.last.slice(0, 10)}` : "—" }),
        el("td", { className: "num", textContent: number(d.files, lang) }),
        actions,
      );
    });
    this.list.replaceChildren(
      table([t("import.dataset"), t("import.records"), t("import.span"), t("import.files"), ""], rows),
    );
  }

  /** Remove on a second click within a few seconds: no modal dialog, and no removal by a slip. */
  async remove(name, button) {
    if (!button.dataset.armed) {
      button.dataset.armed = "1";
      button.textContent = this.page.t("import.confirm_remove");
      setTimeout(() => {
        delete button.dataset.armed;
        button.textContent = this.page.t("import.remove");
      }, CONFIRM_MS);
      return;
    }
    button.disabled = true;
    try {
      await this.page.api.request("DELETE", `/api/analytics/datasets/${encodeURIComponent(name)}`);
      await this.page.reloadDatasets();
      this.page.notice(this.page.t("import.removed", { dataset: name }));
    } catch (exc) {
      this.page.notice(this.page.errorText(exc));
      button.disabled = false;
    }
  }
}
