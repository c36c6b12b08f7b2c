// 实有人口审核 (registry review) at the station desk: the queue of field collections to approve or
// return with a reason, the conflicts (one identity number at two actual addresses) to settle,
// and a search of the registry that states why (every search is in the audit log).

const STRINGS = {
  "zh-CN": {
    "records.queue": "待审核采集",
    "records.conflicts": "冲突",
    "records.search": "查询",
    "records.refresh": "刷新",
    "records.col.when": "提交时间",
    "records.col.kind": "类型",
    "records.col.address": "地址",
    "records.col.record": "内容",
    "records.col.by": "采集人",
    "records.col.photos": "照片",
    "records.col.actions": "操作",
    "records.approve": "通过",
    "records.return": "退回",
    "records.return_reason": "退回原因（采集人可见）",
    "records.approved": "已通过",
    "records.in_conflict": "已转为冲突，待处理",
    "records.returned": "已退回",
    "records.none": "暂无待审核的采集",
    "records.no_conflicts": "暂无冲突",
    "records.conflict.person": "人员",
    "records.conflict.existing": "登记地址",
    "records.conflict.claimed": "新采集地址",
    "records.keep": "保留原址",
    "records.move": "迁至新址",
    "records.settle_note": "处理说明",
    "records.settled": "冲突已处理",
    "records.by": "查询方式",
    "records.by.address": "地址",
    "records.by.name": "姓名",
    "records.by.id_number": "身份证号",
    "records.by.phone": "手机号",
    "records.by.plate": "车牌",
    "records.value": "查询内容",
    "records.reason": "查询事由（记入审计）",
    "records.go": "查询",
    "records.results": "查询结果：{n} 人",
    "records.kind.resident": "实有人口",
    "records.kind.house": "实有房屋",
    "records.kind.household": "户",
    "records.kind.business": "实有单位",
    "records.history": "变更记录",
    "records.field.name": "姓名",
    "records.field.id_number": "身份证号",
    "records.field.phone": "手机号",
    "records.field.relation": "与户主关系",
    "records.field.registered_address": "户籍地址",
    "records.field.moved_in": "入住日期",
    "records.field.moved_out": "迁出日期",
    "records.field.plates": "车牌",
    "records.field.house_id": "实际居住房屋",
    "records.field.household_id": "户",
    "records.field.street_address": "街路巷门牌",
    "records.field.community": "社区",
    "records.field.building": "楼号",
    "records.field.unit": "单元",
    "records.field.room": "室",
    "records.field.lat": "纬度",
    "records.field.lon": "经度",
    "records.field.label": "标准地址",
    "records.field.station_id": "所属派出所",
    "records.field.number": "户号",
    "records.field.licence_number": "统一社会信用代码",
    "records.field.kind": "类别",
    "records.field.people_in_charge": "负责人",
    "records.history.when": "时间",
    "records.history.field": "字段",
    "records.history.before": "变更前",
    "records.history.after": "变更后",
    "records.history.who": "采集人 / 审核人",
    "records.history.channel": "来源",
    "records.channel.terminal": "移动终端",
    "records.channel.station": "派出所",
    "records.relation.head": "户主",
    "records.relation.spouse": "配偶",
    "records.relation.child": "子女",
    "records.relation.parent": "父母",
    "records.relation.grandchild": "孙子女",
    "records.relation.sibling": "兄弟姐妹",
    "records.relation.tenant": "租住人员",
    "records.relation.other": "其他",
  },
  en: {
    "records.queue": "Collections to review",
    "records.conflicts": "Conflicts",
    "records.search": "Search",
    "records.refresh": "Refresh",
    "records.col.when": "Submitted",
    "records.col.kind": "Kind",
    "records.col.address": "Address",
    "records.col.record": "Record",
    "records.col.by": "Collector",
    "records.col.photos": "Photos",
    "records.col.actions": "Actions",
    "records.approve": "Approve",
    "records.return": "Return",
    "records.return_reason": "Why it goes back (the collector sees it)",
    "records.approved": "Approved",
    "records.in_conflict": "Held as a conflict",
    "records.returned": "Returned",
    "records.none": "Nothing to review",
    "records.no_conflicts": "No conflicts",
    "records.conflict.person": "Person",
    "records.conflict.existing": "On record at",
    "records.conflict.claimed": "Collected at",
    "records.keep": "Keep the record",
    "records.move": "Move to the new address",
    "records.settle_note": "How it was settled",
    "records.settled": "Conflict settled",
    "records.by": "Search by",
    "records.by.address": "address",
    "records.by.name": "name",
    "records.by.id_number": "ID number",
    "records.by.phone": "phone",
    "records.by.plate": "plate",
    "records.value": "Value",
    "records.reason": "Reason (audited)",
    "records.go": "Search",
    "records.results": "{n} people found",
    "records.kind.resident": "resident",
    "records.kind.house": "house",
    "records.kind.household": "household",
    "records.kind.business": "business",
    "records.history": "History",
    "records.field.name": "name",
    "records.field.id_number": "ID number",
    "records.field.phone": "phone",
    "records.field.relation": "relation",
    "records.field.registered_address": "registered address",
    "records.field.moved_in": "moved in",
    "records.field.moved_out": "moved out",
    "records.field.plates": "plates",
    "records.field.house_id": "house",
    "records.field.household_id": "household",
    "records.field.street_address": "street address",
    "records.field.community": "community",
    "records.field.building": "building",
    "records.field.unit": "unit",
    "records.field.room": "room",
    "records.field.lat": "latitude",
    "records.field.lon": "longitude",
    "records.field.label": "standard address",
    "records.field.station_id": "station",
    "records.field.number": "household number",
    "records.field.licence_number": "licence number",
    "records.field.kind": "kind",
    "records.field.people_in_charge": "people in charge",
    "records.history.when": "When",
    "records.history.field": "Field",
    "records.history.before": "Before",
    "records.history.after": "After",
    "records.history.who": "Collector / reviewer",
    "records.history.channel": "From",
    "records.channel.terminal": "terminal",
    "records.channel.station": "station",
    "records.relation.head": "head",
    "records.relation.spouse": "spouse",
    "records.relation.child": "child",
    "records.relation.parent": "parent",
    "records.relation.grandchild": "grandchild",
    "records.relation.sibling": "sibling",
    "records.relation.tenant": "tenant",
    "records.relation.other": "other",
  },
};

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "i18n") node.dataset.i18n = value;
    else if (key in node) node[key] = value;
    else node.setAttribute(key, value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

function summary(c, t) {
  const r = c.record || {};
  if (c.kind === "resident") {
    return [r.name, r.id_number, r.phone, r.relation && t(`records.relation.${r.relation}`)].filter(Boolean).join(" · ");
  }
  if (c.kind === "business") return [r.name, r.licence_number, r.kind].filter(Boolean).join(" · ");
  if (c.kind === "house") return [r.community, r.building, r.unit, r.room].filter(Boolean).join(" / ");
  return r.number || "";
}

export default {
  id: "records",
  needs: "records.review",
  title: { "zh-CN": "实有人口审核", en: "Registry review" },
  strings: STRINGS,
  create(desk) {
    const t = (key, params) => desk.i18n.t(key, params);
    const element = el("section", { className: "records-desk" });
    const queueBody = el("tbody");
    const conflictsBody = el("tbody");
    const results = el("div", { className: "records-results" });
    const header = (...keys) => el("thead", {}, el("tr", {}, ...keys.map((k) => el("th", { i18n: k }))));
    const byOptions = ["address", "name", "id_number", "phone", "plate"].map((b) =>
      el("option", { value: b, i18n: `records.by.${b}` }),
    );
    const searchForm = el(
      "form",
      { className: "card inline records-search" },
      el("h3", { i18n: "records.search" }),
      el("label", {}, el("span", { i18n: "records.by" }), el("select", { name: "by" }, ...byOptions)),
      el("label", {}, el("span", { i18n: "records.value" }), el("input", { name: "value", required: true })),
      el("label", {}, el("span", { i18n: "records.reason" }), el("input", { name: "reason", required: true })),
      el("div", { className: "row" }, el("button", { type: "submit", className: "primary", i18n: "records.go" })),
    );
    element.append(
      el(
        "div",
        { className: "bar" },
        el("h2", { i18n: "records.queue" }),
        el("button", { type: "button", className: "records-refresh", i18n: "records.refresh" }),
      ),
      el(
        "table",
        { className: "list records-queue" },
        header(
          "records.col.when",
          "records.col.kind",
          "records.col.address",
          "records.col.record",
          "records.col.by",
          "records.col.photos",
          "records.col.actions",
        ),
        queueBody,
      ),
      el("div", { className: "bar" }, el("h2", { i18n: "records.conflicts" })),
      el(
        "table",
        { className: "list records-conflicts" },
        header("records.conflict.person", "records.conflict.existing", "records.conflict.claimed", "records.col.actions"),
        conflictsBody,
      ),
      searchForm,
      results,
    );

    async function act(promise, done) {
      try {
        await promise;
        desk.notice(done);
      } catch (exc) {
        desk.notice(desk.errorText(exc));
      }
      await refresh();
    }

    async function photoLink(photo) {
      const link = el("button", { type: "button", className: "link" }, `${t("records.col.photos")} ${Math.max(1, Math.round(photo.size / 1024))} KB`);
      link.addEventListener("click", async () => {
        const response = await fetch(`/api/records/photos/${photo.id}`, {
          headers: { Authorization: `Bearer ${desk.api.token}` },
        });
        if (response.ok) window.open(URL.createObjectURL(await response.blob()), "_blank");
      });
      return link;
    }

    async function renderQueue(found) {
      const rows = [];
      for (const c of found) {
        const approve = el("button", { type: "button", className: "primary records-approve", i18n: "records.approve" });
        const back = el("button", { type: "button", className: "records-return", i18n: "records.return" });
        approve.addEventListener("click", async () => {
          try {
            const answer = await desk.api.post(`/api/records/collections/${c.id}/approve`, {});
            desk.notice(t(answer.status === "conflict" ? "records.in_conflict" : "records.approved"));
          } catch (exc) {
            desk.notice(desk.errorText(exc));
          }
          await refresh();
        });
        back.addEventListener("click", () => {
          const reason = window.prompt(t("records.return_reason"));
          if (reason === null) return;
          act(desk.api.post(`/api/records/collections/${c.id}/return`, { reason }), t("records.returned"));
        });
        const photos = await Promise.all((c.photos || []).map(photoLink));
        const row = el(
          "tr",
          {},
          el("td", {}, new Date(c.submitted_at).toLocaleString(desk.i18n.lang)),
          el("td", {}, t(`records.kind.${c.kind}`)),
          el("td", {}, c.label),
          el("td", {}, summary(c, t), c.note ? el("div", { className: "hint" }, c.note) : null),
          el("td", {}, c.collected_by),
          el("td", {}, ...photos),
          el("td", { className: "actions" }, approve, back),
        );
        row.dataset.id = c.id;
        rows.push(row);
      }
      if (!rows.length) rows.push(el("tr", {}, el("td", { colSpan: 7, className: "muted" }, t("records.none"))));
      queueBody.replaceChildren(...rows);
    }

    function renderConflicts(found) {
      const rows = found.map((c) => {
        const keep = el("button", { type: "button", i18n: "records.keep" });
        const move = el("button", { type: "button", className: "primary", i18n: "records.move" });
        const settle = (resolution) => {
          const note = window.prompt(t("records.settle_note"));
          if (note === null) return;
          act(desk.api.post(`/api/records/conflicts/${c.id}/settle`, { resolution, note }), t("records.settled"));
        };
        keep.addEventListener("click", () => settle("keep_existing"));
        move.addEventListener("click", () => settle("move_to_new"));
        const row = el(
          "tr",
          {},
          el("td", {}, `${c.name || ""} ${c.id_number || ""}`),
          el("td", {}, c.existing_house.label),
          el("td", {}, c.claimed_house.label),
          el("td", { className: "actions" }, keep, move),
        );
        row.dataset.id = c.id;
        return row;
      });
      if (!rows.length) rows.push(el("tr", {}, el("td", { colSpan: 4, className: "muted" }, t("records.no_conflicts"))));
      conflictsBody.replaceChildren(...rows);
    }

    async function refresh() {
      const [queue, conflicts] = await Promise.all([
        desk.api.get("/api/records/collections?status=pending"),
        desk.api.get("/api/records/conflicts?status=open"),
      ]);
      await renderQueue(queue);
      renderConflicts(conflicts);
      desk.i18n.apply(element);
    }

    const history = el("div", { className: "records-history" });

    const fieldName = (field) => {
      const key = `records.field.${field}`;
      const text = t(key);
      return text === key ? field : text;
    };

    /** One record's history (read with the search's reason, audited like it). */
    async function showHistory(kind, id, reason) {
      try {
        const record = await desk.api.get(`/api/records/${kind}/${id}?reason=${encodeURIComponent(reason)}`);
        const rows = record.history.map((h) =>
          el(
            "tr",
            {},
            el("td", {}, new Date(h.ts).toLocaleString(desk.i18n.lang)),
            el("td", { title: h.field }, fieldName(h.field)),
            el("td", {}, h.before ?? "—"),
            el("td", {}, h.after ?? "—"),
            el("td", {}, `${h.actor}${h.reviewer ? ` / ${h.reviewer}` : ""}`),
            el("td", {}, t(`records.channel.${h.channel}`)),
          ),
        );
        history.replaceChildren(
          el("h3", { i18n: "records.history" }),
          el(
            "table",
            { className: "list" },
            header(
              "records.history.when",
              "records.history.field",
              "records.history.before",
              "records.history.after",
              "records.history.who",
              "records.history.channel",
            ),
            el("tbody", {}, ...rows),
          ),
        );
        desk.i18n.apply(history);
      } catch (exc) {
        desk.notice(desk.errorText(exc));
      }
    }

    searchForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const data = Object.fromEntries(new FormData(searchForm));
      try {
        const found = await desk.api.post("/api/records/search", data);
        const detail = (kind, id) => {
          const open = el("button", { type: "button", className: "link records-history-open", i18n: "records.history" });
          open.addEventListener("click", () => showHistory(kind, id, data.reason));
          return open;
        };
        const people = found.residents.map((r) =>
          el(
            "li",
            {},
            `${r.name} · ${r.id_number} · ${r.phone || "—"} · ${r.house_label}${r.moved_out ? ` (→ ${r.moved_out})` : ""} `,
            detail("residents", r.id),
          ),
        );
        const places = found.businesses.map((b) =>
          el("li", {}, `${b.name} · ${b.licence_number} · ${b.house_label} `, detail("businesses", b.id)),
        );
        results.replaceChildren(
          el("p", {}, t("records.results", { n: found.residents.length })),
          el("ul", {}, ...people, ...places),
          history,
        );
        history.replaceChildren();
        desk.i18n.apply(results);
      } catch (exc) {
        desk.notice(desk.errorText(exc));
      }
    });
    element.querySelector(".records-refresh").addEventListener("click", () => refresh().catch((exc) => desk.notice(desk.errorText(exc))));
    desk.i18n.apply(element);
    return { element, refresh, render: () => desk.i18n.apply(element) };
  },
};
