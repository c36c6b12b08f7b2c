// The terminal's tabs: 出警 (the dispatch view, for an officer bound to a unit) and the work beyond
// dispatch, one module each under ./tabs/ (patrol checks, field collection, disputes, applications).
// A module is loaded only if the signed-in role may use it, and a module that fails to load is left
// out rather than taking the terminal down: the dispatch view must always work.

/** The tab modules, in the order their tabs show; each is /static/terminal/tabs/<name>.js. */
export const TAB_MODULES = ["today", "checks", "collect", "disputes", "applications"];

export class Tabs {
  /**
   * @param {{nav: HTMLElement, panels: HTMLElement, i18n: import("/static/shared/i18n.js").I18n,
   *          onDispatch: (shown: boolean) => void}} options
   *   onDispatch: show or hide the dispatch view (the terminal's own, not a module).
   */
  constructor({ nav, panels, i18n, onDispatch }) {
    this.nav = nav;
    this.panels = panels;
    this.i18n = i18n;
    this.onDispatch = onDispatch;
    this.tabs = []; // [{id, title, module?, panel?, handle?}]
    this.current = null;
    this.loaded = new Map(); // name → module (imports are done once per page)
  }

  /** Load the modules the role may use and build the tab bar; `dispatch`: the officer has a unit. */
  async open(ctx, { dispatch }) {
    this.close();
    const role = ctx.api.session ? ctx.api.session.role : null;
    if (dispatch) this.tabs.push({ id: "dispatch", title: null });
    const modules = await Promise.all(TAB_MODULES.map((name) => this._load(name)));
    for (const [i, module] of modules.entries()) {
      const name = TAB_MODULES[i];
      if (!module || !(module.roles || []).includes(role)) continue;
      const panel = document.createElement("section");
      panel.className = "tab-panel";
      panel.id = `tab-${module.id}`;
      panel.hidden = true;
      this.panels.append(panel);
      let handle = null;
      try {
        handle = module.mount(panel, ctx) || {};
      } catch (exc) {
        console.error(`terminal tab ${name} failed to start`, exc);
        panel.remove();
        continue;
      }
      this.tabs.push({ id: module.id, title: module.title, module, panel, handle });
    }
    this.render();
    const saved = sessionStorage.getItem("jingwu.terminal.tab");
    const first = this.tabs.find((t) => t.id === saved) || this.tabs[0];
    if (first) this.show(first.id);
    this.nav.hidden = this.tabs.length < 2;
  }

  async _load(name) {
    if (this.loaded.has(name)) return this.loaded.get(name);
    let module = null;
    try {
      module = (await import(`/static/terminal/tabs/${name}.js`)).default;
      if (module && module.strings) this.i18n.extend(module.strings);
    } catch (exc) {
      console.warn(`terminal tab ${name} is not available`, exc);
    }
    this.loaded.set(name, module);
    return module;
  }

  close() {
    if (this.current) this._hide(this.current);
    for (const tab of this.tabs) if (tab.panel) tab.panel.remove();
    this.tabs = [];
    this.current = null;
    this.nav.replaceChildren();
    this.nav.hidden = true;
  }

  has(id) {
    return this.tabs.some((t) => t.id === id);
  }

  show(id) {
    const tab = this.tabs.find((t) => t.id === id);
    if (!tab) return;
    if (this.current && this.current !== tab) this._hide(this.current);
    this.current = tab;
    sessionStorage.setItem("jingwu.terminal.tab", id);
    if (tab.id === "dispatch") this.onDispatch(true);
    else {
      this.onDispatch(false);
      tab.panel.hidden = false;
      if (tab.handle && tab.handle.show) tab.handle.show();
    }
    this.render();
  }

  _hide(tab) {
    if (tab.id === "dispatch") return;
    tab.panel.hidden = true;
    if (tab.handle && tab.handle.hide) tab.handle.hide();
  }

  /** The tab bar, in the current language. */
  render() {
    const buttons = this.tabs.map((tab) => {
      const button = document.createElement("button");
      button.type = "button";
      button.role = "tab";
      button.dataset.tab = tab.id;
      button.setAttribute("aria-selected", String(this.current === tab));
      button.textContent =
        tab.id === "dispatch" ? this.i18n.t("tab.dispatch") : tab.title[this.i18n.lang] || tab.title["zh-CN"];
      button.addEventListener("click", () => this.show(tab.id));
      return button;
    });
    this.nav.replaceChildren(...buttons);
    for (const tab of this.tabs) {
      if (tab.panel) this.i18n.apply(tab.panel);
    }
  }
}
