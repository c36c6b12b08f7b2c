// The residents' portal: phone sign-in, applications and their documents, the certificate, and
// non-urgent reports. ?kiosk=1 is the station hall's touch screen: large targets, and after a
// while without a touch it signs out and starts afresh (the next person sees nothing).

import { Api } from "/static/shared/api.js";
import { I18n } from "/static/shared/i18n.js";
import STRINGS from "/static/service/strings.js";

const params = new URLSearchParams(location.search);
const KIOSK = params.get("kiosk") === "1";
// Seconds without a touch before a kiosk signs out (?idle=N for a test), and the warning before it.
const IDLE_S = Math.max(10, Number(params.get("idle")) || 120);
const WARN_S = Math.min(15, Math.floor(IDLE_S / 2));

const api = new Api(KIOSK ? "jingwu.service.kiosk" : "jingwu.service");
const i18n = new I18n(STRINGS, "jingwu.service.lang");
const $ = (id) => document.getElementById(id);
const state = { kinds: [], stations: [], application: null, location: null };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child);
  return node;
}

const MAX_SIDE = 2000; // a phone's 12-megapixel photo of a card, scaled: legible, well under the upload limit

/** An image scaled down to MAX_SIDE as a JPEG where the browser can; a PDF (or anything not
 * decodable here) as it is: the server checks what it is. */
async function shrink(file) {
  if (!file.type.startsWith("image/")) return file;
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
    if (scale < 1 || file.size > 1_500_000) {
      const canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.85));
      if (blob) return blob;
    }
  } catch {
    // not decodable here
  }
  return file;
}

function say(text, kind = "info") {
  const box = $("message");
  box.textContent = text;
  box.className = `message ${kind}`;
  box.hidden = !text;
}

function fail(exc) {
  say(i18n.error(exc), "bad");
}

function pick(entry) {
  return i18n.lang === "en" ? entry.en : entry.zh;
}

// ------------------------------------------------------------------------------------- views

function show(view) {
  for (const section of document.querySelectorAll(".view")) section.hidden = section.id !== `view-${view}`;
  $("signout").hidden = view === "signin";
  window.scrollTo(0, 0);
}

async function go(view) {
  say("");
  try {
    if (view === "apply") await openApply();
    if (view === "applications") await openList();
    if (view === "report") await openReport();
    show(view);
  } catch (exc) {
    fail(exc);
  }
}

// ------------------------------------------------------------------------------------- sign-in

let resendTimer = null;

async function getCode() {
  const phone = $("phone").value.trim();
  const button = $("get-code");
  button.disabled = true;
  try {
    const sent = await api.request("POST", "/api/service/sign-in/code", { body: { phone }, anonymous: true });
    say(i18n.t("signin.sent"), "ok");
    const demo = $("demo-code");
    demo.hidden = !sent.demo_code;
    demo.textContent = sent.demo_code ? i18n.t("signin.demo_code", { code: sent.demo_code }) : "";
    demo.dataset.code = sent.demo_code || "";
    $("code").focus();
    countdown(sent.resend_after_s);
  } catch (exc) {
    button.disabled = false;
    fail(exc);
  }
}

function countdown(seconds) {
  const button = $("get-code");
  let left = seconds;
  clearInterval(resendTimer);
  const tick = () => {
    if (left <= 0) {
      clearInterval(resendTimer);
      button.disabled = false;
      button.textContent = i18n.t("signin.get_code");
      return;
    }
    button.textContent = i18n.t("signin.resend", { n: left });
    left -= 1;
  };
  tick();
  resendTimer = setInterval(tick, 1000);
}

function remember(session) {
  api.session = session;
  localStorage.setItem(api.storageKey, JSON.stringify(session));
}

async function signIn(event) {
  event.preventDefault();
  try {
    const session = await api.request("POST", "/api/service/sign-in", {
      body: { phone: $("phone").value.trim(), code: $("code").value.trim() },
      anonymous: true,
    });
    remember(session);
    $("signin-form").reset();
    $("demo-code").hidden = true;
    say("");
    show("home");
  } catch (exc) {
    fail(exc);
  }
}

async function passwordSignIn(event) {
  event.preventDefault();
  try {
    await api.login($("username").value.trim(), $("password").value);
    $("password-form").reset();
    say("");
    show("home");
  } catch (exc) {
    fail(exc);
  }
}

async function signOut() {
  await api.logout();
  if (KIOSK) {
    location.replace(location.pathname + location.search); // a clean page for the next person
    return;
  }
  for (const form of document.querySelectorAll("form")) form.reset();
  $("demo-code").hidden = true;
  say("");
  show("signin");
}

// ------------------------------------------------------------------------------------- applying

async function openApply() {
  if (!state.kinds.length) state.kinds = await api.get("/api/service/kinds");
  if (!state.stations.length) state.stations = await api.get("/api/service/stations");
  const kind = $("apply-kind");
  const chosen = kind.value;
  kind.replaceChildren(...state.kinds.map((k) => el("option", { value: k.code }, pick(k))));
  if (chosen) kind.value = chosen;
  const station = $("apply-station");
  const place = station.value;
  station.replaceChildren(...state.stations.map((s) => el("option", { value: s.id }, s.name)));
  if (place) station.value = place;
  describeKind();
}

function describeKind() {
  const kind = state.kinds.find((k) => k.code === $("apply-kind").value);
  $("apply-documents").textContent = kind
    ? i18n.t("apply.documents", { list: kind.documents.map(pick).join(i18n.lang === "en" ? "; " : "；") })
    : "";
}

async function submitApplication(event) {
  event.preventDefault();
  const button = $("apply-submit");
  button.disabled = true;
  try {
    const application = await api.post("/api/service/applications", {
      kind: $("apply-kind").value,
      applicant_name: $("apply-name").value,
      id_number: $("apply-id").value.trim(),
      address: $("apply-address").value,
      purpose: $("apply-purpose").value.trim() || null,
      station_id: $("apply-station").value,
    });
    $("apply-form").reset();
    renderDetail(application);
    show("detail");
    say(i18n.t("apply.done"), "ok");
  } catch (exc) {
    fail(exc);
  } finally {
    button.disabled = false;
  }
}

async function openList() {
  const found = await api.get("/api/service/applications");
  const list = $("applications");
  if (!found.length) {
    list.replaceChildren(el("li", { class: "hint" }, i18n.t("list.empty")));
    return;
  }
  list.replaceChildren(
    ...found.map((a) =>
      el(
        "li",
        {},
        el(
          "button",
          { type: "button", dataset: { application: a.id }, onclick: () => openDetail(a.id) },
          el("b", {}, i18n.lang === "en" ? a.kind_en : a.kind_zh),
          el("span", { class: "status", dataset: { status: a.status } }, i18n.t(`status.${a.status}`)),
          el("span", { class: "hint" }, new Date(a.created_at).toLocaleString(i18n.lang)),
        ),
      ),
    ),
  );
}

async function openDetail(id) {
  try {
    renderDetail(await api.get(`/api/service/applications/${encodeURIComponent(id)}`));
    say("");
    show("detail");
  } catch (exc) {
    fail(exc);
  }
}

function renderDetail(a) {
  state.application = a;
  const open = !["approved", "refused", "verified"].includes(a.status);
  const missing = new Map(a.missing.map((m) => [m.document, m.reason]));
  const docs = a.documents_asked.map((d) => {
    const count = a.documents.filter((f) => f.document === d.code).length;
    const reason = missing.get(d.code);
    return el(
      "div",
      { class: "doc", dataset: { document: d.code } },
      el("b", {}, pick(d)),
      reason
        ? el("span", { class: "missing" }, reason === "not_uploaded" ? i18n.t("reason.not_uploaded") : reason)
        : el("span", { class: "ok" }, i18n.t("detail.uploaded", { n: count })),
      open
        ? el("input", {
            type: "file",
            accept: "image/jpeg,image/png,image/webp,application/pdf",
            dataset: { document: d.code },
            "aria-label": `${i18n.t("detail.upload")} ${pick(d)}`,
            onchange: (event) => uploadDocument(d.code, event.target),
          })
        : null,
    );
  });
  const actions = [];
  if (a.status === "missing_documents") {
    actions.push(el("button", { type: "button", id: "resubmit", class: "primary", onclick: resubmit }, i18n.t("detail.resubmit")));
  }
  if (a.status === "approved" && a.certificate_code) {
    actions.push(
      el("button", { type: "button", id: "download", class: "primary", onclick: download }, i18n.t("detail.download")),
      el("p", { id: "certificate-code", class: "hint" }, i18n.t("detail.code", { code: a.certificate_code })),
    );
  }
  // replaceChildren writes a null as the text "null": the parts left out are filtered away.
  const parts = [
    el("h2", {}, i18n.lang === "en" ? a.kind_en : a.kind_zh),
    el("p", {}, `${i18n.t("detail.status")}：`, el("span", { id: "detail-status", class: "status", dataset: { status: a.status } }, i18n.t(`status.${a.status}`))),
    a.refusal_reason ? el("p", { class: "missing" }, i18n.t("detail.refused", { reason: a.refusal_reason })) : null,
    el("p", { class: "hint" }, `${a.applicant_name} · ${a.station_name}`),
    a.missing.length ? el("h3", {}, i18n.t("detail.missing")) : null,
    el("div", { class: "cards" }, docs),
    el("div", { class: "detail-actions" }, actions),
  ];
  $("detail").replaceChildren(...parts.filter(Boolean));
}

async function uploadDocument(code, input) {
  const file = input.files && input.files[0];
  if (!file) return;
  const a = state.application;
  say(i18n.t("detail.uploading"));
  try {
    const type = file.type || (file.name.toLowerCase().endsWith(".pdf") ? "application/pdf" : "");
    const scaled = await shrink(new Blob([await file.arrayBuffer()], { type }));
    const body = new Blob([await scaled.arrayBuffer()], { type: scaled.type || type });
    await api.post(`/api/service/applications/${encodeURIComponent(a.id)}/documents?document=${encodeURIComponent(code)}`, body);
    renderDetail(await api.get(`/api/service/applications/${encodeURIComponent(a.id)}`));
    say(i18n.t("detail.uploaded_ok"), "ok");
  } catch (exc) {
    input.value = "";
    fail(exc);
  }
}

async function resubmit() {
  try {
    renderDetail(await api.post(`/api/service/applications/${encodeURIComponent(state.application.id)}/resubmit`));
    say(i18n.t(`status.${state.application.status}`), "ok");
  } catch (exc) {
    fail(exc);
  }
}

async function download() {
  const a = state.application;
  try {
    const response = await fetch(`/api/service/applications/${encodeURIComponent(a.id)}/certificate`, {
      headers: { Authorization: `Bearer ${api.token}` },
      cache: "no-store",
    });
    if (!response.ok) throw Object.assign(new Error(response.statusText), { code: `http_${response.status}` });
    const url = URL.createObjectURL(await response.blob());
    const link = el("a", { href: url, download: `${a.certificate_code}.pdf` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (exc) {
    fail(exc);
  }
}

// ------------------------------------------------------------------------------------- reports

async function openReport() {
  const types = await api.get("/api/service/report-types");
  const select = $("report-type");
  const chosen = select.value;
  select.replaceChildren(...types.map((t) => el("option", { value: t.code }, pick(t))));
  if (chosen) select.value = chosen;
  await listReports();
}

async function listReports() {
  const reports = await api.get("/api/service/reports");
  $("reports").replaceChildren(
    ...reports.map((r) =>
      el(
        "li",
        { class: "card" },
        el("b", {}, r.incident_id),
        el("span", {}, r.description || r.type_code),
        el("span", { class: "hint" }, i18n.t("report.status", { status: i18n.t(`incident.${r.status}`) })),
      ),
    ),
  );
}

function locate() {
  if (!navigator.geolocation) {
    say(i18n.t("report.no_location"), "bad");
    return;
  }
  navigator.geolocation.getCurrentPosition(
    (p) => {
      state.location = { lat: p.coords.latitude, lon: p.coords.longitude };
      $("report-location").textContent = i18n.t("report.located", {
        lat: state.location.lat.toFixed(5),
        lon: state.location.lon.toFixed(5),
      });
    },
    () => say(i18n.t("report.no_location"), "bad"),
    { enableHighAccuracy: true, timeout: 15000 },
  );
}

async function submitReport(event) {
  event.preventDefault();
  if (!state.location) {
    say(i18n.t("report.no_location"), "bad");
    return;
  }
  const button = $("report-submit");
  button.disabled = true;
  try {
    const report = await api.post("/api/service/reports", {
      type_code: $("report-type").value,
      location: state.location,
      address: $("report-address").value.trim() || null,
      description: $("report-description").value.trim() || null,
    });
    const photo = $("report-photo").files[0];
    if (photo) {
      const scaled = await shrink(photo);
      const body = new Blob([await scaled.arrayBuffer()], { type: scaled.type || photo.type });
      await api.post(`/api/service/reports/${encodeURIComponent(report.incident_id)}/photos`, body);
    }
    $("report-form").reset();
    state.location = null;
    $("report-location").textContent = "";
    say(i18n.t("report.done", { id: report.incident_id }), "ok");
    await listReports();
  } catch (exc) {
    fail(exc);
  } finally {
    button.disabled = false;
  }
}

// ------------------------------------------------------------------------------------- kiosk idle

let idleAt = Date.now();

function touched() {
  idleAt = Date.now();
  $("idle").hidden = true;
}

function watchIdle() {
  for (const kind of ["pointerdown", "keydown", "input", "touchstart"]) {
    document.addEventListener(kind, touched, { capture: true, passive: true });
  }
  setInterval(() => {
    const quiet = (Date.now() - idleAt) / 1000;
    // Nothing to clear: not signed in, and nothing typed on the sign-in screen.
    const typed = [...document.querySelectorAll("#view-signin input")].some((input) => input.value);
    if (!api.token && !typed) return;
    if (quiet >= IDLE_S) {
      signOut();
    } else if (quiet >= IDLE_S - WARN_S) {
      $("idle-text").textContent = i18n.t("idle.warning", { n: Math.ceil(IDLE_S - quiet) });
      $("idle").hidden = false;
    }
  }, 1000);
}

// ------------------------------------------------------------------------------------- start

function start() {
  if (KIOSK) {
    document.body.classList.add("kiosk");
    api.forget(); // a kiosk always starts signed out: never the previous person's session
    watchIdle();
  }
  i18n.apply(document);
  $("lang").addEventListener("click", () => {
    i18n.setLang(i18n.lang === "en" ? "zh-CN" : "en");
    if (!$("view-apply").hidden) describeKind();
    if (!$("view-detail").hidden && state.application) renderDetail(state.application);
  });
  $("signout").addEventListener("click", signOut);
  $("get-code").addEventListener("click", getCode);
  $("signin-form").addEventListener("submit", signIn);
  $("password-form").addEventListener("submit", passwordSignIn);
  $("apply-kind").addEventListener("change", describeKind);
  $("apply-form").addEventListener("submit", submitApplication);
  $("report-locate").addEventListener("click", locate);
  $("report-form").addEventListener("submit", submitReport);
  $("idle-stay").addEventListener("click", touched);
  for (const button of document.querySelectorAll("[data-go]")) {
    button.addEventListener("click", () => go(button.dataset.go));
  }
  api.addEventListener("unauthenticated", () => show("signin"));
  show(api.token ? "home" : "signin");
}

start();
