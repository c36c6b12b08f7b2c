// The new-incident form's address field (标准地址): suggestions from the city's own address index as
// the call taker types (GET /api/geocode), and the address at a map click (GET /api/geocode/reverse).
//
// What the call taker typed is theirs: a map click fills the field only while it is empty or still
// holds what a suggestion or an earlier click put there.

const DEBOUNCE_MS = 200;
const SUGGESTIONS = 8;
const MAX_QUERY_CHARS = 100; // the server refuses longer queries (service/geocoding.py)
const CJK = /[\u3400-\u9fff]/;

/** Whether `text` is worth asking about: one Chinese character names something, one Latin letter
 * (a pinyin initial) does not yet. */
export function worthAsking(text) {
  const t = text.trim();
  if (!t || t.length > MAX_QUERY_CHARS) return false;
  return t.length >= 2 || CJK.test(t);
}

/** The text an incident's address gets for a suggestion: its district in front, as the reverse
 * label writes it (南岗区红军街85号), so that two streets of one name in two districts stay apart. */
export function addressText(match) {
  const district = match.district || "";
  return district && !match.label.startsWith(district) ? `${district}${match.label}` : match.label;
}

export class AddressField {
  /**
   * @param {{api: import("/static/shared/api.js").Api, i18n: object, input: HTMLInputElement,
   *          list: HTMLElement, onChoose: (match: object) => void}} options
   */
  constructor({ api, i18n, input, list, onChoose }) {
    this.api = api;
    this.i18n = i18n;
    this.input = input;
    this.list = list;
    this.onChoose = onChoose;
    this.results = [];
    this.active = -1;
    this.timer = 0;
    this.searching = null; // the AbortController of the suggestion request in flight
    this.reversing = null; // …and of the reverse look-up in flight
    this.filled = false; // the text came from a suggestion or a map click, not from the keyboard
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("aria-expanded", "false");
    input.autocomplete = "off";
    input.addEventListener("input", (e) => {
      this.filled = false;
      if (this.reversing) this.reversing.abort(); // a late answer must not replace what is typed
      if (!e.isComposing) this.schedule();
    });
    // An IME (pinyin) fires input events while composing: ask once the characters are chosen.
    input.addEventListener("compositionend", () => this.schedule());
    input.addEventListener("keydown", (e) => this.keys(e));
    input.addEventListener("blur", () => this.closeList());
    list.addEventListener("mousedown", (e) => {
      const item = e.target.closest("li[data-index]");
      if (!item) return;
      e.preventDefault(); // keep the focus in the field
      this.choose(Number(item.dataset.index));
    });
  }

  /** A fresh form: nothing typed, nothing asked, nothing in flight. */
  reset() {
    this.cancel();
    if (this.reversing) this.reversing.abort();
    this.reversing = null;
    this.filled = false;
    this.closeList();
  }

  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.suggest(), DEBOUNCE_MS);
  }

  cancel() {
    clearTimeout(this.timer);
    this.timer = 0;
    if (this.searching) this.searching.abort();
    this.searching = null;
  }

  async suggest() {
    this.cancel();
    const text = this.input.value.trim();
    if (!worthAsking(text)) return this.closeList();
    const controller = new AbortController();
    this.searching = controller;
    const query = new URLSearchParams({ q: text, limit: String(SUGGESTIONS) });
    let answer;
    try {
      answer = await this.api.get(`/api/geocode?${query}`, { signal: controller.signal });
    } catch (exc) {
      if (controller !== this.searching) return; // a newer keystroke took over
      this.searching = null;
      return this.show([], this.i18n.error(exc));
    }
    if (controller !== this.searching) return;
    this.searching = null;
    if (document.activeElement !== this.input) return; // the call taker has moved on
    this.show(answer.results, answer.results.length ? null : this.i18n.t("address.none"));
  }

  show(results, note) {
    this.results = results;
    this.active = -1; // nothing chosen until an arrow key or the mouse says so
    this.input.removeAttribute("aria-activedescendant");
    const items = results.map((match, i) => {
      const li = document.createElement("li");
      li.id = `${this.list.id}-${i}`;
      li.dataset.index = String(i);
      li.dataset.kind = match.kind;
      li.setAttribute("role", "option");
      li.innerHTML = "<b></b><span></span><small></small>";
      li.querySelector("b").textContent = match.label;
      li.querySelector("span").textContent = [match.district, match.subdistrict].filter(Boolean).join(" ");
      li.querySelector("small").textContent = this.i18n.t(`address.kind.${match.kind}`);
      return li;
    });
    if (note) {
      const li = document.createElement("li");
      li.className = "note";
      li.textContent = note;
      items.push(li);
    }
    this.list.replaceChildren(...items);
    this.input.setAttribute("aria-expanded", String(items.length > 0));
  }

  closeList() {
    this.cancel();
    this.results = [];
    this.active = -1;
    this.list.replaceChildren();
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  }

  get isOpen() {
    return this.list.childElementCount > 0;
  }

  keys(e) {
    if (e.isComposing || !this.isOpen) return; // Enter confirms the IME's pick; Esc closes the form
    const items = [...this.list.querySelectorAll("li[data-index]")];
    if ((e.key === "ArrowDown" || e.key === "ArrowUp") && items.length) {
      e.preventDefault();
      const step = e.key === "ArrowDown" ? 1 : -1;
      this.active = this.active < 0 && step < 0 ? items.length - 1 : (this.active + step + items.length) % items.length;
      items.forEach((li, i) => li.classList.toggle("active", i === this.active));
      items[this.active].scrollIntoView({ block: "nearest" });
      this.input.setAttribute("aria-activedescendant", items[this.active].id);
    } else if (e.key === "Enter") {
      // With the list open, Enter never submits the form: it takes the highlighted suggestion, or
      // keeps the text as typed and closes the list.
      e.preventDefault();
      if (this.active >= 0) this.choose(this.active);
      else this.closeList();
    } else if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation(); // close the list, not the whole form
      this.closeList();
    }
  }

  choose(index) {
    const match = this.results[index];
    if (!match) return;
    this.closeList();
    this.input.value = addressText(match);
    this.filled = true;
    this.onChoose(match);
  }

  /** The address at a clicked point, written into the field unless the call taker typed there. */
  async reverse(lat, lon) {
    if (!this.mayFill()) return;
    if (this.reversing) this.reversing.abort();
    const controller = new AbortController();
    this.reversing = controller;
    const query = new URLSearchParams({ lat: String(lat), lon: String(lon) });
    let place;
    try {
      place = await this.api.get(`/api/geocode/reverse?${query}`, { signal: controller.signal });
    } catch {
      return; // the field stays as it was; the location is set all the same
    } finally {
      if (this.reversing === controller) this.reversing = null;
    }
    if (controller.signal.aborted || !this.mayFill()) return;
    // Far from every named street the label is empty: an earlier click's address would be wrong here.
    this.input.value = place.label;
    this.filled = Boolean(place.label);
  }

  mayFill() {
    return this.filled || !this.input.value.trim();
  }
}
