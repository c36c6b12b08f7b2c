// 居民申请 (residents' applications): the community officer's queue of their station's applications
// waiting for on-site verification; open one, look at each document the resident uploaded, tick
// it in order or say why it is missing, and send the verdict. The verdict goes through the
// terminal's outbox (an idempotency key made at the tap), so one given in a stairwell without
// signal reaches the server once, when it can.

const KIND_VERIFY = "applications.verify";
const QUEUE = "/api/service/station/applications";

const STRINGS = {
  "zh-CN": {
    "applications.heading": "待核验的居民申请",
    "applications.none": "暂无待核验的申请",
    "applications.refresh": "刷新",
    "applications.status.submitted": "新申请",
    "applications.status.verifying": "已补交",
    "applications.documents": "材料核验",
    "applications.no_file": "未上传",
    "applications.files": "{n} 份文件",
    "applications.view": "查看",
    "applications.ok": "齐全有效",
    "applications.missing": "缺少或不合格",
    "applications.reason": "原因（将告知居民）",
    "applications.send": "提交核验结果",
    "applications.back": "返回列表",
    "applications.needs_all": "请逐项核验所有材料",
    "applications.needs_reason": "请说明缺少或不合格的原因",
    "applications.queued": "已保存，联网后自动提交",
    "applications.sent_verified": "核验通过，已转派出所审批",
    "applications.sent_missing": "已告知居民补交材料",
    "applications.dropped": "未能提交：{reason}",
    "applications.applicant": "申请人 {name} · {id}",
    "applications.address": "住址 {address}",
    "applications.purpose": "用途 {purpose}",
  },
  en: {
    "applications.heading": "Applications to verify",
    "applications.none": "Nothing waits for verification",
    "applications.refresh": "Refresh",
    "applications.status.submitted": "new",
    "applications.status.verifying": "re-submitted",
    "applications.documents": "Documents",
    "applications.no_file": "not uploaded",
    "applications.files": "{n} file(s)",
    "applications.view": "View",
    "applications.ok": "In order",
    "applications.missing": "Missing or not acceptable",
    "applications.reason": "Why (the resident is told)",
    "applications.send": "Send the verdict",
    "applications.back": "Back to the list",
    "applications.needs_all": "Judge every document",
    "applications.needs_reason": "Say why each one is missing",
    "applications.queued": "Saved; it is sent when online",
    "applications.sent_verified": "Verified; passed to the station for approval",
    "applications.sent_missing": "The resident is told what to bring",
    "applications.dropped": "Not sent: {reason}",
    "applications.applicant": "Applicant {name} · {id}",
    "applications.address": "Address {address}",
    "applications.purpose": "Purpose {purpose}",
  },
};

const STYLE = `
.applications-tab { padding: 12px; overflow-y: auto; box-sizing: border-box; max-width: 100%; }
.applications-tab button { min-height: 44px; font-size: 16px; }
.applications-list { list-style: none; padding: 0; display: grid; gap: 6px; }
.applications-item { padding: 10px; border-radius: 6px; background: rgba(255,255,255,.06); cursor: pointer; display: grid; gap: 2px; }
.applications-item .state { font-size: 13px; opacity: .8; }
.applications-check { display: grid; gap: 6px; padding: 10px; margin: 6px 0; border-radius: 6px; background: rgba(255,255,255,.06); }
.applications-check .choices { display: flex; gap: 12px; flex-wrap: wrap; }
.applications-check .choices label { display: flex; gap: 6px; align-items: center; min-height: 40px; }
.applications-check input[type=text] { min-height: 40px; font-size: 16px; width: 100%; box-sizing: border-box; }
.applications-check img { max-width: 100%; max-height: 240px; object-fit: contain; background: #fff; }
.applications-tab .files { display: flex; gap: 8px; flex-wrap: wrap; }
`;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "i18n") node.dataset.i18n = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key in node) node[key] = value;
    else node.setAttribute(key, value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

export default {
  id: "applications",
  roles: ["community_officer"],
  title: { "zh-CN": "申请", en: "Applications" },
  strings: STRINGS,
  mount(root, ctx) {
    const t = (key, params) => ctx.i18n.t(key, params);
    const pick = (entry) => (ctx.i18n.lang === "en" ? entry.en : entry.zh);
    root.classList.add("applications-tab");
    const list = el("ul", { className: "applications-list", id: "applications-queue" });
    const detail = el("form", { id: "applications-detail", hidden: true, noValidate: true });
    const refresh = el("button", { type: "button", id: "applications-refresh", i18n: "applications.refresh" });
    root.append(el("style", {}, STYLE), el("h2", { i18n: "applications.heading" }), refresh, list, detail);
    const blobs = [];
    let current = null;
    let queue = [];

    const forget = () => {
      for (const url of blobs.splice(0)) URL.revokeObjectURL(url);
    };

    async function load() {
      try {
        queue = await ctx.api.get(QUEUE);
      } catch (exc) {
        if (!exc.offline) ctx.toast(ctx.i18n.error(exc), "warn");
        return;
      }
      renderList();
    }

    function renderList() {
      list.replaceChildren(
        ...(queue.length
          ? queue.map((a) =>
              el(
                "li",
                { className: "applications-item", dataset: { application: a.id }, onclick: () => open(a) },
                el("b", {}, pick({ zh: a.kind_zh, en: a.kind_en })),
                el("span", {}, `${a.applicant_name} · ${a.address}`),
                el("span", { className: "state" }, `${t(`applications.status.${a.status}`)} · ${new Date(a.created_at).toLocaleString(ctx.i18n.lang)}`),
              ),
            )
          : [el("li", { className: "hint", i18n: "applications.none" })]),
      );
      ctx.i18n.apply(list);
    }

    async function fileView(a, file) {
      const response = await fetch(`${QUEUE}/${encodeURIComponent(a.id)}/documents/${encodeURIComponent(file.id)}`, {
        headers: { Authorization: `Bearer ${ctx.api.token}` },
        cache: "no-store",
      });
      if (!response.ok) throw new Error(response.statusText);
      const url = URL.createObjectURL(await response.blob());
      blobs.push(url);
      return url;
    }

    function open(a) {
      current = a;
      forget();
      list.hidden = true;
      refresh.hidden = true;
      const checks = a.documents_asked.map((d) => {
        const files = a.documents.filter((f) => f.document === d.code);
        const viewer = el("div", { className: "files" });
        for (const [i, file] of files.entries()) {
          viewer.append(
            el("button", {
              type: "button",
              textContent: `${t("applications.view")} ${i + 1}`,
              onclick: async (event) => {
                try {
                  const url = await fileView(a, file);
                  if (file.content_type.startsWith("image/")) event.target.replaceWith(el("img", { src: url, alt: pick(d) }));
                  else window.open(url, "_blank", "noopener");
                } catch (exc) {
                  ctx.toast(String(exc), "warn");
                }
              },
            }),
          );
        }
        const name = `check-${d.code}`;
        return el(
          "fieldset",
          { className: "applications-check", dataset: { document: d.code } },
          el("legend", {}, pick(d)),
          el("span", {}, files.length ? t("applications.files", { n: files.length }) : t("applications.no_file")),
          viewer,
          el(
            "div",
            { className: "choices" },
            el("label", {}, el("input", { type: "radio", name, value: "ok" }), el("span", { i18n: "applications.ok" })),
            el("label", {}, el("input", { type: "radio", name, value: "missing", checked: !files.length }), el("span", { i18n: "applications.missing" })),
          ),
          el("input", { type: "text", name: `reason-${d.code}`, maxLength: 500, "data-i18n-placeholder": "applications.reason" }),
        );
      });
      // (replaceChildren would write a left-out part, null, as the text "null")
      const parts = [
        el("button", { type: "button", id: "applications-back", i18n: "applications.back", onclick: close }),
        el("h3", {}, pick({ zh: a.kind_zh, en: a.kind_en })),
        el("p", {}, t("applications.applicant", { name: a.applicant_name, id: a.id_number })),
        el("p", {}, t("applications.address", { address: a.address })),
        a.purpose ? el("p", {}, t("applications.purpose", { purpose: a.purpose })) : null,
        el("h4", { i18n: "applications.documents" }),
        ...checks,
        el("button", { type: "submit", className: "primary", id: "applications-send", i18n: "applications.send" }),
      ];
      detail.replaceChildren(...parts.filter(Boolean));
      ctx.i18n.apply(detail);
      detail.hidden = false;
    }

    function close() {
      forget();
      current = null;
      detail.hidden = true;
      detail.replaceChildren();
      list.hidden = false;
      refresh.hidden = false;
    }

    detail.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!current) return;
      const checks = [];
      for (const d of current.documents_asked) {
        const chosen = detail.querySelector(`input[name="check-${d.code}"]:checked`);
        if (!chosen) return ctx.toast(t("applications.needs_all"), "warn");
        const reason = detail.querySelector(`input[name="reason-${d.code}"]`).value.trim();
        if (chosen.value === "missing" && !reason) return ctx.toast(t("applications.needs_reason"), "warn");
        checks.push(chosen.value === "ok" ? { document: d.code, ok: true } : { document: d.code, ok: false, reason });
      }
      const a = current;
      await ctx.outbox.add({
        kind: KIND_VERIFY,
        method: "POST",
        path: `${QUEUE}/${encodeURIComponent(a.id)}/verify`,
        body: { checks },
        label: { "zh-CN": `核验 ${a.kind_zh}`, en: `Verify ${a.kind_en}` },
      });
      queue = queue.filter((x) => x.id !== a.id);
      close();
      renderList();
      if (!ctx.online()) ctx.toast(t("applications.queued"), "info");
    });

    ctx.outbox.addEventListener("sent", (e) => {
      if (e.detail.entry.kind !== KIND_VERIFY) return;
      const result = e.detail.result || {};
      ctx.toast(t(result.status === "verified" ? "applications.sent_verified" : "applications.sent_missing"), "ok");
      if (!root.hidden) load();
    });
    ctx.outbox.addEventListener("dropped", (e) => {
      if (e.detail.entry.kind !== KIND_VERIFY) return;
      const error = e.detail.error;
      ctx.toast(t("applications.dropped", { reason: error && error.code ? ctx.i18n.error(error) : String(error) }), "warn");
      load();
    });
    refresh.addEventListener("click", load);
    ctx.i18n.apply(root);

    return {
      show() {
        if (!current) load();
      },
      hide() {},
    };
  },
};
