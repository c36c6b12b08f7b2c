// 采集 (field collection): a community officer records a resident, a house or a business on a
// standard address, with photos, where they stand. Each submission is queued in the terminal's
// outbox with an id made here, so it is kept across a lost signal or a reload and reaches the
// server exactly once (the server also ignores a second copy of the same id). The list below the
// form shows the officer's own collections and why any came back.

const KIND = "records.collection";
const PATH = "/api/records/collections";
const MAX_SIDE = 1280; // photos are scaled down before they are queued: an outbox is not a film roll
const MAX_PHOTOS = 6;

const STRINGS = {
  "zh-CN": {
    "collect.heading": "实有人口 / 房屋 / 单位采集",
    "collect.kind": "采集类型",
    "collect.kind.resident": "实有人口",
    "collect.kind.house": "实有房屋",
    "collect.kind.business": "实有单位",
    "collect.house": "标准地址",
    "collect.street_address": "街路巷门牌（如 红军街85号）",
    "collect.community": "社区",
    "collect.building": "楼号",
    "collect.unit": "单元",
    "collect.room": "室",
    "collect.lat": "纬度",
    "collect.lon": "经度",
    "collect.here": "用当前位置",
    "collect.person": "人员信息",
    "collect.name": "姓名",
    "collect.id_number": "公民身份号码",
    "collect.phone": "手机号",
    "collect.relation": "与户主关系",
    "collect.registered_address": "户籍地址",
    "collect.moved_in": "入住日期",
    "collect.plates": "名下车牌（逗号分隔）",
    "collect.business_name": "单位名称",
    "collect.licence_number": "统一社会信用代码",
    "collect.business_kind": "单位类别",
    "collect.in_charge": "负责人姓名",
    "collect.in_charge_phone": "负责人电话",
    "collect.photos": "照片",
    "collect.note": "备注",
    "collect.submit": "提交审核",
    "collect.queued": "已保存，联网后自动上传",
    "collect.sent": "采集已上传，等待派出所审核",
    "collect.dropped": "采集被退回：{reason}",
    "collect.mine": "我的采集",
    "collect.none": "暂无采集记录",
    "collect.waiting": "待上传",
    "collect.no_position": "尚无定位，请填写经纬度",
    "collect.status.pending": "待审核",
    "collect.status.approved": "已通过",
    "collect.status.returned": "已退回",
    "collect.status.conflict": "冲突待处理",
    "collect.relation.head": "户主",
    "collect.relation.spouse": "配偶",
    "collect.relation.child": "子女",
    "collect.relation.parent": "父母",
    "collect.relation.grandchild": "孙子女",
    "collect.relation.sibling": "兄弟姐妹",
    "collect.relation.tenant": "租住人员",
    "collect.relation.other": "其他",
    "collect.bkind.shop": "商铺",
    "collect.bkind.restaurant": "餐饮",
    "collect.bkind.hotel": "旅馆",
    "collect.bkind.entertainment": "娱乐场所",
    "collect.bkind.office": "办公",
    "collect.bkind.factory": "工厂",
    "collect.bkind.repair": "修理",
    "collect.bkind.other": "其他",
  },
  en: {
    "collect.heading": "Residents, houses and businesses",
    "collect.kind": "What",
    "collect.kind.resident": "Resident",
    "collect.kind.house": "House",
    "collect.kind.business": "Business",
    "collect.house": "Standard address",
    "collect.street_address": "Street and number (e.g. 红军街85号)",
    "collect.community": "Community",
    "collect.building": "Building",
    "collect.unit": "Unit",
    "collect.room": "Room",
    "collect.lat": "Latitude",
    "collect.lon": "Longitude",
    "collect.here": "Use my position",
    "collect.person": "Person",
    "collect.name": "Name",
    "collect.id_number": "ID number",
    "collect.phone": "Mobile",
    "collect.relation": "Relation to the head",
    "collect.registered_address": "Registered address (hukou)",
    "collect.moved_in": "Moved in",
    "collect.plates": "Plates (comma-separated)",
    "collect.business_name": "Business name",
    "collect.licence_number": "Unified social credit code",
    "collect.business_kind": "Kind",
    "collect.in_charge": "Person in charge",
    "collect.in_charge_phone": "Their phone",
    "collect.photos": "Photos",
    "collect.note": "Note",
    "collect.submit": "Submit for review",
    "collect.queued": "Saved; it uploads when online",
    "collect.sent": "Collection uploaded; the station will review it",
    "collect.dropped": "Collection refused: {reason}",
    "collect.mine": "My collections",
    "collect.none": "No collections yet",
    "collect.waiting": "waiting to upload",
    "collect.no_position": "No position yet: type the coordinates",
    "collect.status.pending": "pending",
    "collect.status.approved": "approved",
    "collect.status.returned": "returned",
    "collect.status.conflict": "conflict",
    "collect.relation.head": "head",
    "collect.relation.spouse": "spouse",
    "collect.relation.child": "child",
    "collect.relation.parent": "parent",
    "collect.relation.grandchild": "grandchild",
    "collect.relation.sibling": "sibling",
    "collect.relation.tenant": "tenant",
    "collect.relation.other": "other",
    "collect.bkind.shop": "shop",
    "collect.bkind.restaurant": "restaurant",
    "collect.bkind.hotel": "hotel",
    "collect.bkind.entertainment": "entertainment",
    "collect.bkind.office": "office",
    "collect.bkind.factory": "factory",
    "collect.bkind.repair": "repair",
    "collect.bkind.other": "other",
  },
};

const STYLE = `
.collect-tab { padding: 12px; overflow-x: hidden; overflow-y: auto; box-sizing: border-box; max-width: 100%; }
.collect-form { display: grid; gap: 8px; min-width: 0; }
.collect-form fieldset {
  display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 8px; min-width: 0;
  margin: 0; border: 1px solid #2a3c55; border-radius: 8px;
}
.collect-field { display: grid; gap: 2px; min-width: 0; }
.collect-field span { font-size: 13px; opacity: .8; }
.collect-field input, .collect-field select {
  min-height: 40px; font-size: 16px; width: 100%; box-sizing: border-box; min-width: 0;
}
.collect-submit { min-height: 48px; font-size: 17px; }
.collect-list { list-style: none; padding: 0; display: grid; gap: 6px; }
.collect-item { padding: 8px; border-radius: 6px; background: rgba(255,255,255,.05); }
.collect-item.returned .collect-reason { color: #ffb020; }
.collect-item.waiting { opacity: .75; font-style: italic; }
`;

const RELATIONS = ["head", "spouse", "child", "parent", "grandchild", "sibling", "tenant", "other"];
const BUSINESS_KINDS = ["shop", "restaurant", "hotel", "entertainment", "office", "factory", "repair", "other"];

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "i18n") node.dataset.i18n = value;
    else if (key in node && key !== "list") node[key] = value;
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

function field(name, labelKey, attrs = {}) {
  const input = el("input", { name, autocomplete: "off", ...attrs });
  return el("label", { className: "collect-field" }, el("span", { i18n: labelKey }), input);
}

function select(name, labelKey, values, prefix) {
  const options = values.map((v) => el("option", { value: v, i18n: `${prefix}.${v}` }));
  return el("label", { className: "collect-field" }, el("span", { i18n: labelKey }), el("select", { name }, ...options));
}

function newId() {
  const random = crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
  return `col-${random}`;
}

/** A photo as {content_type, data (base64)}, scaled down to MAX_SIDE as a JPEG when it can be. */
async function readPhoto(file) {
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
    if (scale < 1 || file.type !== "image/jpeg") {
      const canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.82));
      if (blob) return { content_type: "image/jpeg", data: await base64(blob) };
    }
  } catch {
    // Not decodable here (an old browser): send it as it is; the server checks what it is.
  }
  return { content_type: file.type || "application/octet-stream", data: await base64(file) };
}

function base64(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1] || "");
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

export default {
  id: "collect",
  roles: ["community_officer", "officer"],
  title: { "zh-CN": "采集", en: "Collect" },
  strings: STRINGS,
  mount(root, ctx) {
    const t = (key, params) => ctx.i18n.t(key, params);
    const form = el("form", { className: "collect-form", noValidate: true });
    const kind = select("kind", "collect.kind", ["resident", "house", "business"], "collect.kind");
    const house = el(
      "fieldset",
      { className: "collect-house" },
      el("legend", { i18n: "collect.house" }),
      field("street_address", "collect.street_address", { required: true }),
      field("community", "collect.community", { required: true }),
      field("building", "collect.building", { required: true }),
      field("unit", "collect.unit"),
      field("room", "collect.room"),
      field("lat", "collect.lat", { inputMode: "decimal" }),
      field("lon", "collect.lon", { inputMode: "decimal" }),
      el("button", { type: "button", className: "collect-here", i18n: "collect.here" }),
    );
    const person = el(
      "fieldset",
      { className: "collect-person" },
      el("legend", { i18n: "collect.person" }),
      field("name", "collect.name"),
      field("id_number", "collect.id_number", { maxLength: 18 }),
      field("phone", "collect.phone", { inputMode: "tel" }),
      select("relation", "collect.relation", RELATIONS, "collect.relation"),
      field("registered_address", "collect.registered_address"),
      field("moved_in", "collect.moved_in", { type: "date" }),
      field("plates", "collect.plates"),
    );
    const business = el(
      "fieldset",
      { className: "collect-business" },
      el("legend", { i18n: "collect.kind.business" }),
      field("business_name", "collect.business_name"),
      field("licence_number", "collect.licence_number", { maxLength: 18 }),
      select("business_kind", "collect.business_kind", BUSINESS_KINDS, "collect.bkind"),
      field("in_charge", "collect.in_charge"),
      field("in_charge_phone", "collect.in_charge_phone", { inputMode: "tel" }),
    );
    const photos = el("input", { type: "file", name: "photos", accept: "image/*", multiple: true });
    photos.setAttribute("capture", "environment");
    form.append(
      el("h2", { i18n: "collect.heading" }),
      kind,
      house,
      person,
      business,
      el("label", { className: "collect-field" }, el("span", { i18n: "collect.photos" }), photos),
      field("note", "collect.note"),
      el("button", { type: "submit", className: "primary collect-submit", i18n: "collect.submit" }),
    );
    const list = el("ul", { className: "collect-list" });
    root.append(form, el("h3", { i18n: "collect.mine" }), list);
    root.classList.add("collect-tab");
    root.prepend(el("style", {}, STYLE));
    const value = (name) => (form.elements[name] ? form.elements[name].value.trim() : "");
    const queued = new Map(); // collection id → its label, while it waits in the outbox

    function showKind() {
      const k = value("kind");
      person.hidden = k !== "resident";
      business.hidden = k !== "business";
    }

    function fillPosition(force) {
      const fix = ctx.position();
      if (!fix) {
        if (force) ctx.toast(t("collect.no_position"), "warn");
        return;
      }
      if (force || !value("lat")) form.elements.lat.value = fix.lat.toFixed(6);
      if (force || !value("lon")) form.elements.lon.value = fix.lon.toFixed(6);
    }

    function record() {
      const k = value("kind");
      const address = {
        street_address: value("street_address"),
        community: value("community"),
        building: value("building"),
        unit: value("unit"),
        room: value("room"),
        lat: Number(value("lat")),
        lon: Number(value("lon")),
      };
      if (k === "house") return { kind: k, record: address };
      if (k === "resident") {
        const resident = {
          name: value("name"),
          id_number: value("id_number"),
          relation: value("relation"),
          registered_address: value("registered_address"),
          plates: value("plates").split(/[,，\s]+/).filter(Boolean),
        };
        if (value("phone")) resident.phone = value("phone");
        if (value("moved_in")) resident.moved_in = value("moved_in");
        return { kind: k, record: resident, house: address };
      }
      const people = value("in_charge") ? [{ name: value("in_charge"), phone: value("in_charge_phone") || null }] : [];
      return {
        kind: k,
        record: {
          name: value("business_name"),
          licence_number: value("licence_number"),
          kind: value("business_kind"),
          people_in_charge: people,
        },
        house: address,
      };
    }

    async function submit(event) {
      event.preventDefault();
      fillPosition(false);
      const files = Array.from(photos.files || []).slice(0, MAX_PHOTOS);
      const body = { id: newId(), ...record(), channel: "terminal", note: value("note") };
      body.photos = await Promise.all(files.map(readPhoto));
      const label = `${body.house ? body.house.street_address : body.record.street_address} ${value("room")}`.trim();
      queued.set(body.id, label);
      await ctx.outbox.add({
        kind: KIND,
        method: "POST",
        path: PATH,
        body,
        label: { "zh-CN": `采集 ${label}`, en: `Collection ${label}` },
      });
      ctx.toast(t("collect.queued"), "info");
      for (const name of ["name", "id_number", "phone", "registered_address", "moved_in", "plates", "note",
        "business_name", "licence_number", "in_charge", "in_charge_phone", "room"]) {
        if (form.elements[name]) form.elements[name].value = "";
      }
      photos.value = "";
      render([]);
      refresh();
    }

    let mine = [];
    function render(found) {
      if (found) mine = found.length ? found : mine;
      const rows = [];
      for (const [id, label] of queued) {
        const item = el("li", { className: "collect-item waiting" }, `${label} · ${t("collect.waiting")}`);
        item.dataset.id = id;
        item.dataset.status = "waiting";
        rows.push(item);
      }
      for (const c of mine) {
        if (queued.has(c.id)) continue;
        const item = el("li", { className: `collect-item ${c.status}` });
        item.dataset.id = c.id;
        item.dataset.status = c.status;
        item.append(el("span", { className: "collect-label" }, c.label));
        item.append(el("span", { className: "collect-status" }, ` · ${t(`collect.status.${c.status}`)}`));
        if (c.return_reason) item.append(el("div", { className: "collect-reason" }, c.return_reason));
        rows.push(item);
      }
      if (!rows.length) rows.push(el("li", { className: "collect-empty" }, t("collect.none")));
      list.replaceChildren(...rows);
    }

    async function refresh() {
      if (!ctx.online()) {
        render(null);
        return;
      }
      try {
        const found = await ctx.api.get(`${PATH}?mine=true&limit=50`);
        mine = found;
        render(null);
      } catch {
        render(null);
      }
    }

    ctx.outbox.addEventListener("sent", (e) => {
      if (e.detail.entry.kind !== KIND) return;
      queued.delete(e.detail.entry.body.id);
      ctx.toast(t("collect.sent"), "ok");
      refresh();
    });
    ctx.outbox.addEventListener("dropped", (e) => {
      if (e.detail.entry.kind !== KIND) return;
      queued.delete(e.detail.entry.body.id);
      const reason = e.detail.error && e.detail.error.code ? ctx.i18n.error(e.detail.error) : String(e.detail.error);
      ctx.toast(t("collect.dropped", { reason }), "warn");
      refresh();
    });
    form.elements.kind.addEventListener("change", showKind);
    house.querySelector(".collect-here").addEventListener("click", () => fillPosition(true));
    form.addEventListener("submit", submit);
    // Entries queued before a reload are still in the outbox: show them as waiting.
    (ctx.outbox.entries || []).forEach((entry) => {
      if (entry.kind === KIND && entry.body) queued.set(entry.body.id, entry.label ? entry.label["zh-CN"] : entry.body.id);
    });
    showKind();
    ctx.i18n.apply(root);
    render(null);

    return {
      show() {
        fillPosition(false);
        refresh();
      },
      hide() {},
    };
  },
};
