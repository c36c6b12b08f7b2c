// 纠纷 (disputes): the community officer's own cases, overdue follow-ups first, then rising risk;
// open a case where they stand; record a mediation visit with a note and a photo. Every write goes
// through the terminal's outbox (IndexedDB, an idempotency key made at the tap), so a visit noted
// in a stairwell without signal reaches the server once, when it can. The visit's id is made here,
// so its photos, queued behind it, follow it to the right visit.

const KIND_CASE = "disputes.case";
const KIND_VISIT = "disputes.visit";
const KIND_PHOTO = "disputes.photo";
const KINDS = ["neighbour", "family", "labour", "property", "debt", "other"];
const FACTORS = [
  "violence_threatened",
  "weapons",
  "previous_calls",
  "vulnerable_parties",
  "repeated_conflict",
  "self_harm_threatened",
  "alcohol_or_drugs",
  "group_involved",
];
const MAX_SIDE = 1280;

const STRINGS = {
  "zh-CN": {
    "disputes.heading": "我的矛盾纠纷",
    "disputes.none": "暂无未结纠纷",
    "disputes.new": "新建纠纷",
    "disputes.kind": "纠纷类型",
    "disputes.kind.neighbour": "邻里",
    "disputes.kind.family": "家庭",
    "disputes.kind.labour": "劳资",
    "disputes.kind.property": "物业房产",
    "disputes.kind.debt": "债务",
    "disputes.kind.other": "其他",
    "disputes.risk.low": "低",
    "disputes.risk.medium": "中",
    "disputes.risk.high": "高",
    "disputes.risk.critical": "极高",
    "disputes.summary": "纠纷简况",
    "disputes.address": "地址",
    "disputes.party1": "当事人一 姓名",
    "disputes.phone1": "当事人一 电话",
    "disputes.party2": "当事人二 姓名",
    "disputes.factors": "风险因素",
    "disputes.factor.violence_threatened": "扬言动手",
    "disputes.factor.weapons": "涉及凶器",
    "disputes.factor.previous_calls": "此前报过警",
    "disputes.factor.vulnerable_parties": "涉及老幼病残孕",
    "disputes.factor.repeated_conflict": "反复冲突",
    "disputes.factor.self_harm_threatened": "扬言轻生",
    "disputes.factor.alcohol_or_drugs": "酗酒或涉毒",
    "disputes.factor.group_involved": "多人卷入",
    "disputes.open": "建档",
    "disputes.visit": "记录走访",
    "disputes.note": "走访情况",
    "disputes.photo": "照片",
    "disputes.save_visit": "保存走访",
    "disputes.overdue": "回访逾期 {n} 天",
    "disputes.due": "回访 {day}",
    "disputes.rising": "风险上升",
    "disputes.queued": "已保存，联网后自动上传",
    "disputes.sent": "已上传",
    "disputes.dropped": "未能保存：{reason}",
    "disputes.waiting": "待上传",
    "disputes.no_position": "尚无定位，无法建档",
    "disputes.needs": "请填写类型、简况、地址和至少一名当事人",
  },
  en: {
    "disputes.heading": "My disputes",
    "disputes.none": "No open disputes",
    "disputes.new": "New dispute",
    "disputes.kind": "Kind",
    "disputes.kind.neighbour": "neighbour",
    "disputes.kind.family": "family",
    "disputes.kind.labour": "labour",
    "disputes.kind.property": "property",
    "disputes.kind.debt": "debt",
    "disputes.kind.other": "other",
    "disputes.risk.low": "low",
    "disputes.risk.medium": "medium",
    "disputes.risk.high": "high",
    "disputes.risk.critical": "critical",
    "disputes.summary": "What it is about",
    "disputes.address": "Address",
    "disputes.party1": "First party's name",
    "disputes.phone1": "First party's phone",
    "disputes.party2": "Second party's name",
    "disputes.factors": "Risk factors",
    "disputes.factor.violence_threatened": "violence threatened",
    "disputes.factor.weapons": "weapons",
    "disputes.factor.previous_calls": "police called before",
    "disputes.factor.vulnerable_parties": "vulnerable parties",
    "disputes.factor.repeated_conflict": "repeated conflict",
    "disputes.factor.self_harm_threatened": "self-harm threatened",
    "disputes.factor.alcohol_or_drugs": "alcohol or drugs",
    "disputes.factor.group_involved": "several people involved",
    "disputes.open": "Open the case",
    "disputes.visit": "Record a visit",
    "disputes.note": "What happened",
    "disputes.photo": "Photo",
    "disputes.save_visit": "Save the visit",
    "disputes.overdue": "follow-up {n} days overdue",
    "disputes.due": "follow-up {day}",
    "disputes.rising": "risk rising",
    "disputes.queued": "Saved; it uploads when online",
    "disputes.sent": "Uploaded",
    "disputes.dropped": "Not saved: {reason}",
    "disputes.waiting": "waiting to upload",
    "disputes.no_position": "No position yet: the case needs one",
    "disputes.needs": "Give the kind, a summary, the address and at least one party",
  },
};

const STYLE = `
.disputes-tab { padding: 12px; overflow-y: auto; box-sizing: border-box; max-width: 100%; }
.disputes-tab form { display: grid; gap: 8px; margin: 8px 0; }
.disputes-tab input, .disputes-tab select, .disputes-tab textarea { min-height: 40px; font-size: 16px; width: 100%; box-sizing: border-box; }
.disputes-tab .factors { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 4px; }
.disputes-tab .factors label { display: flex; gap: 6px; align-items: center; }
.disputes-tab .factors input { width: auto; min-height: 0; }
.disputes-tab button { min-height: 44px; font-size: 16px; }
.disputes-list { list-style: none; padding: 0; display: grid; gap: 6px; }
.disputes-item { padding: 8px; border-radius: 6px; background: rgba(255,255,255,.05); cursor: pointer; }
.disputes-item[aria-selected=true] { outline: 2px solid #4a90e2; }
.disputes-item .risk { padding: 0 6px; border-radius: 4px; color: #fff; margin-right: 6px; }
.disputes-item .late { color: #ffb020; }
`;
const RISK_COLOURS = { low: "#4a7", medium: "#c90", high: "#d50", critical: "#c00" };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "i18n") node.dataset.i18n = value;
    else if (key in node) node[key] = value;
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

function uid() {
  return crypto.randomUUID ? crypto.randomUUID().replaceAll("-", "") : `${Date.now()}${Math.random().toString(16).slice(2)}`;
}

/** A photo scaled down to MAX_SIDE as a JPEG where the browser can; else the file as it is. */
async function shrink(file) {
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
    if (scale < 1) {
      const canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.82));
      if (blob) return blob;
    }
  } catch {
    // not decodable here: the server checks what it is
  }
  return file;
}

export default {
  id: "disputes",
  roles: ["community_officer"],
  title: { "zh-CN": "纠纷", en: "Disputes" },
  strings: STRINGS,
  mount(root, ctx) {
    const t = (key, params) => ctx.i18n.t(key, params);
    root.classList.add("disputes-tab");
    const list = el("ul", { className: "disputes-list", id: "disputes-mine" });
    const factorBoxes = FACTORS.map((f) =>
      el("label", {}, el("input", { type: "checkbox", name: "factor", value: f }), el("span", { i18n: `disputes.factor.${f}` })),
    );
    const openForm = el(
      "form",
      { id: "disputes-open", hidden: true, noValidate: true },
      el("select", { name: "kind" }, ...KINDS.map((k) => el("option", { value: k, i18n: `disputes.kind.${k}` }))),
      el("input", { name: "summary", maxLength: 2000, "data-i18n-placeholder": "disputes.summary" }),
      el("input", { name: "address", maxLength: 300, "data-i18n-placeholder": "disputes.address" }),
      el("input", { name: "party1", maxLength: 50, "data-i18n-placeholder": "disputes.party1" }),
      el("input", { name: "phone1", inputMode: "tel", maxLength: 32, "data-i18n-placeholder": "disputes.phone1" }),
      el("input", { name: "party2", maxLength: 50, "data-i18n-placeholder": "disputes.party2" }),
      el("fieldset", { className: "factors" }, el("legend", { i18n: "disputes.factors" }), ...factorBoxes),
      el("button", { type: "submit", className: "primary", i18n: "disputes.open" }),
    );
    const photo = el("input", { type: "file", name: "photo", accept: "image/*" });
    photo.setAttribute("capture", "environment");
    const visitForm = el(
      "form",
      { id: "disputes-visit", hidden: true, noValidate: true },
      el("h3", { className: "visit-title" }),
      el("textarea", { name: "note", maxLength: 4000, rows: 3, "data-i18n-placeholder": "disputes.note" }),
      el("label", {}, el("span", { i18n: "disputes.photo" }), photo),
      el("button", { type: "submit", className: "primary", i18n: "disputes.save_visit" }),
    );
    const newButton = el("button", { type: "button", id: "disputes-new", i18n: "disputes.new" });
    root.append(el("style", {}, STYLE), el("h2", { i18n: "disputes.heading" }), newButton, openForm, list, visitForm);

    let cases = [];
    let selected = null;
    const waiting = new Map(); // outbox entry key → label, while queued

    function render() {
      const rows = [];
      for (const c of cases) {
        const risk = el("span", { className: "risk", textContent: t(`disputes.risk.${c.risk_level}`) });
        risk.style.background = RISK_COLOURS[c.risk_level] || "#888";
        const flags = [];
        if (c.overdue_days > 0) flags.push(el("span", { className: "late", textContent: ` · ${t("disputes.overdue", { n: c.overdue_days })}` }));
        else if (c.next_follow_up_on) flags.push(` · ${t("disputes.due", { day: c.next_follow_up_on })}`);
        if (c.risk_rising) flags.push(el("span", { className: "late", textContent: ` · ${t("disputes.rising")}` }));
        const item = el(
          "li",
          { className: "disputes-item" },
          risk,
          `${t(`disputes.kind.${c.kind}`)} · ${c.address}`,
          ...flags,
          el("div", {}, el("small", { textContent: c.parties.map((p) => p.name).join("、") })),
        );
        item.dataset.id = c.id;
        item.dataset.overdue = String(c.overdue_days);
        item.setAttribute("aria-selected", String(selected === c.id));
        item.addEventListener("click", () => choose(c.id));
        rows.push(item);
      }
      for (const label of waiting.values()) rows.push(el("li", { className: "disputes-item waiting" }, `${label} · ${t("disputes.waiting")}`));
      if (!rows.length) rows.push(el("li", { className: "disputes-empty" }, t("disputes.none")));
      list.replaceChildren(...rows);
      const shown = cases.find((c) => c.id === selected);
      visitForm.hidden = !shown;
      if (shown) visitForm.querySelector(".visit-title").textContent = `${t("disputes.visit")} · ${shown.address}`;
      ctx.i18n.apply(root);
    }

    function choose(id) {
      selected = selected === id ? null : id;
      render();
    }

    async function refresh() {
      if (!ctx.online()) return render();
      try {
        cases = await ctx.api.get("/api/disputes/mine");
      } catch {
        // offline or refused: keep what was shown
      }
      render();
    }

    async function queue(kind, path, body, label) {
      const entry = await ctx.outbox.add({ kind, method: "POST", path, body, label });
      waiting.set(entry.key, label["zh-CN"]);
      return entry;
    }

    openForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const f = openForm.elements;
      const fix = ctx.position();
      if (!fix) return ctx.toast(t("disputes.no_position"), "warn");
      const parties = [];
      if (f.party1.value.trim()) parties.push({ name: f.party1.value.trim(), ...(f.phone1.value.trim() ? { phone: f.phone1.value.trim() } : {}) });
      if (f.party2.value.trim()) parties.push({ name: f.party2.value.trim() });
      if (!f.summary.value.trim() || !f.address.value.trim() || !parties.length) return ctx.toast(t("disputes.needs"), "warn");
      const body = {
        kind: f.kind.value,
        summary: f.summary.value.trim(),
        address: f.address.value.trim(),
        location: { lat: fix.lat, lon: fix.lon },
        parties,
        risk_factors: factorBoxes.map((l) => l.querySelector("input")).filter((i) => i.checked).map((i) => i.value),
      };
      await queue(KIND_CASE, "/api/disputes", body, { "zh-CN": `纠纷建档 ${body.address}`, en: `New dispute ${body.address}` });
      openForm.reset();
      openForm.hidden = true;
      ctx.toast(t("disputes.queued"), "info");
      render();
    });

    visitForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const shown = cases.find((c) => c.id === selected);
      const note = visitForm.elements.note.value.trim();
      if (!shown || !note) return;
      const visitId = `dvs_${uid()}`;
      const base = `/api/disputes/${encodeURIComponent(shown.id)}/visits`;
      await queue(KIND_VISIT, base, { id: visitId, note }, { "zh-CN": `纠纷走访 ${shown.address}`, en: `Visit ${shown.address}` });
      const file = photo.files && photo.files[0];
      if (file) {
        const blob = await shrink(file);
        await queue(KIND_PHOTO, `${base}/${visitId}/photos`, blob, { "zh-CN": `走访照片 ${shown.address}`, en: `Visit photo ${shown.address}` });
      }
      visitForm.reset();
      ctx.toast(t("disputes.queued"), "info");
      render();
    });

    newButton.addEventListener("click", () => {
      openForm.hidden = !openForm.hidden;
    });
    const settle = (e, ok) => {
      const entry = e.detail.entry;
      if (![KIND_CASE, KIND_VISIT, KIND_PHOTO].includes(entry.kind)) return;
      waiting.delete(entry.key);
      if (ok) ctx.toast(t("disputes.sent"), "ok");
      else ctx.toast(t("disputes.dropped", { reason: e.detail.error && e.detail.error.code ? ctx.i18n.error(e.detail.error) : String(e.detail.error) }), "warn");
      refresh();
    };
    ctx.outbox.addEventListener("sent", (e) => settle(e, true));
    ctx.outbox.addEventListener("dropped", (e) => settle(e, false));
    for (const entry of ctx.outbox.entries || []) {
      if ([KIND_CASE, KIND_VISIT, KIND_PHOTO].includes(entry.kind)) waiting.set(entry.key, entry.label ? entry.label["zh-CN"] : entry.path);
    }
    render();
    return { show: refresh, hide() {} };
  },
};
