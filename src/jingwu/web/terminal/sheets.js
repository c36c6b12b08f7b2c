// Questions the terminal asks before a status goes out, each in a sheet over the screen (a modal
// <dialog>: in view whatever the page's scroll, the rest of the screen inert until answered):
// how the incident ended (处置完毕), and whether an arrival that the server places far from the
// scene is real (到达).

const $ = (selector) => document.querySelector(selector);

// The quick choices of a disposition, as string keys (their text follows the language).
export const QUICK_DISPOSITIONS = ["quick.mediated", "quick.handled", "quick.referred", "quick.no_incident"];

let closeOpen = null; // cancels the sheet now open, if any

function open(dialog, onClose) {
  if (closeOpen) closeOpen();
  return new Promise((resolve) => {
    const finish = (value) => {
      if (closeOpen !== cancel) return;
      closeOpen = null;
      dialog.removeEventListener("cancel", onEscape);
      if (dialog.open) dialog.close();
      resolve(onClose(value));
    };
    const cancel = () => finish(null);
    const onEscape = (event) => {
      event.preventDefault(); // closed by finish, so that the promise always settles
      cancel();
    };
    closeOpen = cancel;
    dialog.addEventListener("cancel", onEscape);
    dialog.showModal();
    dialog._finish = finish;
  });
}

/** Ask how the incident ended. Resolves with the text (trimmed, never empty) or null (cancelled). */
export function askDisposition(i18n) {
  const dialog = $("#disposition-sheet");
  const text = $("#disposition");
  const error = $("#disposition-error");
  text.value = "";
  error.hidden = true;
  renderQuick(i18n);
  const asked = open(dialog, (value) => value);
  requestAnimationFrame(() => text.focus({ preventScroll: true }));
  return asked;
}

function renderQuick(i18n) {
  const box = $("#disposition-quick");
  box.replaceChildren(
    ...QUICK_DISPOSITIONS.map((key) => {
      const chip = document.createElement("button");
      chip.type = "button";
      chip.className = "chip";
      chip.dataset.quick = key;
      chip.textContent = i18n.t(key);
      return chip;
    }),
  );
}

/** A quick choice fills the text, or goes in front of what the officer already wrote. */
function pickQuick(i18n, key) {
  const text = $("#disposition");
  const choice = i18n.t(key);
  const choices = QUICK_DISPOSITIONS.map((k) => i18n.t(k));
  const current = text.value.trim();
  const sep = i18n.t("quick.separator");
  const rest = choices.reduce((s, c) => (s.startsWith(c) ? s.slice(c.length).replace(/^[：:;；,，\s]+/, "") : s), current);
  text.value = rest ? `${choice}${sep}${rest}` : choice;
  $("#disposition-error").hidden = true;
  text.focus({ preventScroll: true });
}

/** Ask whether the officer really is at the scene, ``distanceM`` from it by the last position. */
export function askFarArrival(i18n, distanceM) {
  const dialog = $("#far-sheet");
  $("#far-text").textContent = i18n.t("far.question", { d: Math.round(Number(distanceM) || 0) });
  const asked = open(dialog, (value) => value === true);
  requestAnimationFrame(() => $("#far-sheet [data-sheet=cancel]").focus({ preventScroll: true }));
  return asked;
}

/** Wire the sheets' buttons once. */
export function bindSheets(i18n) {
  const disposition = $("#disposition-sheet");
  $("#disposition-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("#disposition").value.trim();
    if (!text) {
      $("#disposition-error").hidden = false;
      $("#disposition").focus({ preventScroll: true });
      return;
    }
    disposition._finish(text);
  });
  $("#disposition-quick").addEventListener("click", (event) => {
    const chip = event.target.closest("button[data-quick]");
    if (chip) pickQuick(i18n, chip.dataset.quick);
  });
  $("#disposition-sheet [data-sheet=cancel]").addEventListener("click", () => disposition._finish(null));
  const far = $("#far-sheet");
  $("#far-sheet [data-sheet=ok]").addEventListener("click", () => far._finish(true));
  $("#far-sheet [data-sheet=cancel]").addEventListener("click", () => far._finish(false));
}
