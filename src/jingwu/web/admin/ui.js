// What the administration tabs share to build their forms and tables.

/** Run a form's save: its error line shows a refusal; true when it went through. */
export async function submitting(form, admin, work) {
  const error = form.querySelector(".error");
  error.hidden = true;
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    await work();
    admin.notice(admin.i18n.t("notice.saved"));
    return true;
  } catch (exc) {
    error.textContent = exc.code ? admin.errorText(exc) : exc.message;
    error.hidden = false;
    return false;
  } finally {
    button.disabled = false;
  }
}

export function option(value, label) {
  const node = document.createElement("option");
  node.value = value;
  node.textContent = label;
  return node;
}

/** A table cell (text only: names typed by people are never read as HTML). */
export function cell(text) {
  const td = document.createElement("td");
  td.textContent = text ?? "";
  return td;
}

export function actionCell(...buttons) {
  const td = document.createElement("td");
  td.className = "actions";
  td.append(...buttons);
  return td;
}

export function button(label, onClick, className = "") {
  const node = document.createElement("button");
  node.type = "button";
  node.textContent = label;
  if (className) node.className = className;
  node.addEventListener("click", onClick);
  return node;
}
