// 盘查 (patrol check): an officer checks a person by identity number or a vehicle by plate against
// the watch lists, with a stated reason, where they stand. The number is checked here as it is
// typed (length, characters, GB 11643 check character; the plate's format), so a typo is caught
// before it is sent. A check needs the server: it is never queued offline (a hit must alert the
// command room now, and a stale answer would tell the officer nothing), and the tab says so.

const STRINGS = {
  "zh-CN": {
    "checks.heading": "巡逻盘查",
    "checks.person": "查人",
    "checks.vehicle": "查车",
    "checks.id_number": "公民身份号码",
    "checks.plate": "车牌号",
    "checks.reason": "盘查事由",
    "checks.reason_placeholder": "选择或填写事由",
    "checks.submit": "核查",
    "checks.checking": "核查中…",
    "checks.here": "位置：{where}",
    "checks.here_none": "位置：暂无定位（以警组最后位置为准）",
    "checks.offline": "离线：盘查需连接服务器，离线时无法核查，也不会排队发送",
    "checks.clear": "未见异常",
    "checks.clear_detail": "未比中在逃、失踪、被盗抢及关注名单",
    "checks.hit": "比中！",
    "checks.hit_lists": "比中：{lists}",
    "checks.backup": "已通知指挥中心。建议增援：{units}",
    "checks.backup_none": "已通知指挥中心。",
    "checks.entry_reason": "布控事由：{reason}",
    "checks.typing_id": "已输入 {n}/18 位",
    "checks.id_ok": "校验位正确",
    "checks.id_bad_check": "校验位不符，请核对号码",
    "checks.id_bad_chars": "只能是数字，最后一位可以是 X",
    "checks.id_15": "15 位旧号（无校验位）",
    "checks.plate_ok": "车牌格式正确",
    "checks.plate_bad": "车牌格式不符（如 黑A12345、黑AD12345、黑A1234警）",
    "checks.pick.suspicious": "形迹可疑",
    "checks.pick.routine": "例行检查",
    "checks.pick.checkpoint": "设卡检查",
    "checks.pick.report": "群众举报",
    "checks.pick.traffic": "交通违法",
    "error.bad_plate": "车牌号格式不符",
    "error.reason_required": "请填写盘查事由",
    "error.reason_too_long": "事由过长（最多 200 字）",
  },
  en: {
    "checks.heading": "Patrol check",
    "checks.person": "Person",
    "checks.vehicle": "Vehicle",
    "checks.id_number": "Identity number",
    "checks.plate": "Plate",
    "checks.reason": "Reason",
    "checks.reason_placeholder": "Pick or type the reason",
    "checks.submit": "Check",
    "checks.checking": "Checking…",
    "checks.here": "Place: {where}",
    "checks.here_none": "Place: no GPS fix (the unit's last position is used)",
    "checks.offline": "Offline: a check needs the server; it cannot run offline and is not queued",
    "checks.clear": "Clear",
    "checks.clear_detail": "On no wanted, missing, stolen or of-interest list",
    "checks.hit": "HIT!",
    "checks.hit_lists": "On the list: {lists}",
    "checks.backup": "The command room is alerted. Suggested backup: {units}",
    "checks.backup_none": "The command room is alerted.",
    "checks.entry_reason": "Listed because: {reason}",
    "checks.typing_id": "{n}/18 characters",
    "checks.id_ok": "Check character correct",
    "checks.id_bad_check": "Check character does not match: read the number again",
    "checks.id_bad_chars": "Digits only; the last may be X",
    "checks.id_15": "Old 15-digit number (no check character)",
    "checks.plate_ok": "Plate format correct",
    "checks.plate_bad": "Not a plate (e.g. 黑A12345, 黑AD12345, 黑A1234警)",
    "checks.pick.suspicious": "Suspicious behaviour",
    "checks.pick.routine": "Routine check",
    "checks.pick.checkpoint": "Checkpoint",
    "checks.pick.report": "Reported by the public",
    "checks.pick.traffic": "Traffic offence",
    "error.bad_plate": "Not a plate number",
    "error.reason_required": "State the reason for the check",
    "error.reason_too_long": "The reason is too long (200 characters at most)",
  },
};

const PICKS = ["suspicious", "routine", "checkpoint", "report", "traffic"];
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS = "10X98765432";

/** The GB 11643 check character of 17 digits (the server checks it again). */
export function idCheckChar(first17) {
  let total = 0;
  for (let i = 0; i < 17; i += 1) total += Number(first17[i]) * WEIGHTS[i];
  return CHECK_CHARS[total % 11];
}

/** What to tell the officer of an identity number as typed: {ok, key, params}. */
export function idHint(text) {
  const value = text.replace(/\s/g, "").toUpperCase();
  if (!/^[0-9]*X?$/.test(value) || (value.includes("X") && value.length !== 18)) {
    return { ok: false, key: "checks.id_bad_chars" };
  }
  if (value.length === 15) return { ok: true, key: "checks.id_15" };
  if (value.length < 18) return { ok: false, key: "checks.typing_id", params: { n: value.length } };
  if (value.length > 18) return { ok: false, key: "checks.id_bad_chars" };
  return idCheckChar(value.slice(0, 17)) === value[17]
    ? { ok: true, key: "checks.id_ok" }
    : { ok: false, key: "checks.id_bad_check" };
}

// The plate formats the server accepts (domain/identity.py parse_plate), for the hint only.
const PROV = "[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼]";
const SERIAL = "[0-9A-HJ-NP-Z]";
const PLATE = new RegExp(
  `^(?:${PROV}[A-HJ-Z](?:${SERIAL}{5}|[A-HJK]${SERIAL}[0-9]{4}|[0-9]{5}[DF]|${SERIAL}{4}(?:警|学|挂|领|应急))` +
    `|粤Z${SERIAL}{4}[港澳]|使(?!000)[0-9]{6}|(?!000)[0-9]{6}使)$`,
);

export function plateHint(text) {
  const value = text.replace(/[\s·•.．-]/g, "").toUpperCase();
  return PLATE.test(value) ? { ok: true, key: "checks.plate_ok" } : { ok: false, key: "checks.plate_bad" };
}

const STYLE = `
.chk { display: flex; flex-direction: column; gap: 10px; padding: 12px; max-width: 560px; margin: 0 auto; }
.chk h2 { margin: 0; font-size: 20px; }
.chk-modes { display: flex; gap: 8px; }
.chk-modes button { flex: 1; font-size: 18px; padding: 10px; border-radius: 8px; border: 2px solid #888; background: #fff; }
.chk-modes button[aria-pressed="true"] { background: #0b4f9c; color: #fff; border-color: #0b4f9c; }
.chk label { display: flex; flex-direction: column; gap: 4px; font-size: 15px; }
.chk input { font-size: 22px; padding: 8px; letter-spacing: 1px; }
.chk .chk-reason input { font-size: 17px; letter-spacing: 0; }
.chk-hint { font-size: 14px; min-height: 1.2em; }
.chk-hint[data-ok="true"] { color: #14752b; }
.chk-hint[data-ok="false"] { color: #b35c00; }
.chk-picks { display: flex; flex-wrap: wrap; gap: 6px; }
.chk-picks button { font-size: 15px; padding: 6px 10px; border-radius: 16px; border: 1px solid #888; background: #f4f4f4; }
.chk-submit { font-size: 22px; padding: 12px; border-radius: 8px; border: 0; background: #0b4f9c; color: #fff; }
.chk-submit:disabled { opacity: .5; }
.chk-offline { background: #fff3cd; color: #6b4e00; padding: 8px; border-radius: 6px; }
.chk-result { border-radius: 10px; padding: 14px; color: #fff; }
.chk-result[data-result="clear"] { background: #14752b; }
.chk-result[data-result="hit"] { background: #b3001b; }
.chk-result[data-result="error"] { background: #8a5a00; }
.chk-result .chk-big { font-size: 34px; font-weight: bold; }
.chk-result .chk-instruction { font-size: 20px; font-weight: bold; margin: 8px 0; }
`;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "i18n") node.dataset.i18n = value;
    else if (key === "className") node.className = value;
    else node.setAttribute(key, value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

export default {
  id: "checks",
  roles: ["officer", "community_officer"],
  title: { "zh-CN": "盘查", en: "Checks" },
  strings: STRINGS,
  mount(root, ctx) {
    const t = (key, params) => ctx.i18n.t(key, params);
    let mode = "person";
    let last = null; // the last answer (or error), re-rendered on a change of language
    const style = el("style");
    style.textContent = STYLE;
    const personButton = el("button", { type: "button", i18n: "checks.person", "data-mode": "person" });
    const vehicleButton = el("button", { type: "button", i18n: "checks.vehicle", "data-mode": "vehicle" });
    const subjectLabel = el("span");
    const subject = el("input", { name: "subject", autocomplete: "off", autocapitalize: "characters", spellcheck: "false" });
    const hint = el("div", { className: "chk-hint", "aria-live": "polite" });
    const reason = el("input", { name: "reason", autocomplete: "off", maxlength: "200" });
    const picks = el(
      "div",
      { className: "chk-picks" },
      ...PICKS.map((p) => el("button", { type: "button", i18n: `checks.pick.${p}`, "data-pick": p })),
    );
    const where = el("div", { className: "chk-where" });
    const offline = el("div", { className: "chk-offline", i18n: "checks.offline" });
    const submit = el("button", { type: "submit", className: "chk-submit", i18n: "checks.submit" });
    const result = el("div", { className: "chk-result", hidden: "", "aria-live": "assertive" });
    const form = el(
      "form",
      { className: "chk", novalidate: "" },
      style,
      el("h2", { i18n: "checks.heading" }),
      el("div", { className: "chk-modes" }, personButton, vehicleButton),
      el("label", {}, subjectLabel, subject),
      hint,
      el("label", { className: "chk-reason" }, el("span", { i18n: "checks.reason" }), reason),
      picks,
      where,
      offline,
      submit,
      result,
    );
    root.append(form);

    function setMode(next) {
      mode = next;
      personButton.setAttribute("aria-pressed", String(mode === "person"));
      vehicleButton.setAttribute("aria-pressed", String(mode === "vehicle"));
      subject.value = "";
      result.hidden = true;
      last = null;
      renderStatic();
      subject.focus();
    }

    function renderHint() {
      const text = subject.value;
      if (!text.trim()) {
        hint.textContent = "";
        hint.removeAttribute("data-ok");
        return;
      }
      const found = mode === "person" ? idHint(text) : plateHint(text);
      hint.textContent = t(found.key, found.params || {});
      hint.dataset.ok = String(found.ok);
    }

    function renderWhere() {
      const fix = ctx.position();
      where.textContent = fix
        ? t("checks.here", {
            where: `${fix.lat.toFixed(5)}, ${fix.lon.toFixed(5)}${fix.accuracy_m ? ` (±${Math.round(fix.accuracy_m)} m)` : ""}`,
          })
        : t("checks.here_none");
      const online = ctx.online();
      offline.hidden = online;
      submit.disabled = !online;
    }

    function renderStatic() {
      subjectLabel.textContent = t(mode === "person" ? "checks.id_number" : "checks.plate");
      reason.placeholder = t("checks.reason_placeholder");
      ctx.i18n.apply(form);
      renderHint();
      renderWhere();
      renderResult();
    }

    function renderResult() {
      if (!last) {
        result.hidden = true;
        return;
      }
      result.hidden = false;
      result.replaceChildren();
      if (last.error) {
        result.dataset.result = "error";
        result.append(el("div", { className: "chk-big" }, last.error.offline ? t("checks.offline") : ctx.i18n.error(last.error)));
        return;
      }
      const answer = last.answer;
      const lang = ctx.i18n.lang;
      result.dataset.result = answer.result;
      if (answer.result === "clear") {
        result.append(el("div", { className: "chk-big" }, `✓ ${t("checks.clear")}`), el("div", {}, t("checks.clear_detail")));
        return;
      }
      const lists = answer.hits.map((h) => h.list_name[lang] || h.list_name["zh-CN"]).join("、");
      const instruction = answer.instruction ? answer.instruction[lang] || answer.instruction["zh-CN"] : "";
      const units = (answer.backup || []).map((b) => `${b.callsign} ${ctx.i18n.duration(b.eta_s)}`).join("，");
      result.append(
        el("div", { className: "chk-big" }, `⚠ ${t("checks.hit")}`),
        el("div", {}, t("checks.hit_lists", { lists })),
        el("div", { className: "chk-instruction" }, instruction),
        ...answer.hits.map((h) =>
          el("div", {}, [h.subject, h.label].filter(Boolean).join(" "), " · ", t("checks.entry_reason", { reason: h.reason })),
        ),
        el("div", {}, units ? t("checks.backup", { units }) : t("checks.backup_none")),
      );
    }

    personButton.addEventListener("click", () => setMode("person"));
    vehicleButton.addEventListener("click", () => setMode("vehicle"));
    subject.addEventListener("input", renderHint);
    picks.addEventListener("click", (e) => {
      const pick = e.target.closest("[data-pick]");
      if (pick) reason.value = t(`checks.pick.${pick.dataset.pick}`);
    });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      renderWhere();
      if (!ctx.online()) return;
      const fix = ctx.position();
      const text = subject.value.replace(/\s/g, "");
      const body = mode === "person" ? { id_number: text } : { plate: text };
      body.reason = reason.value;
      if (fix) body.location = { lat: fix.lat, lon: fix.lon };
      submit.disabled = true;
      submit.textContent = t("checks.checking");
      try {
        last = { answer: await ctx.api.post(`/api/checks/${mode}`, body) };
      } catch (exc) {
        last = { error: exc };
      } finally {
        submit.textContent = t("checks.submit");
        renderWhere();
      }
      renderResult();
      result.scrollIntoView({ block: "nearest", behavior: "smooth" });
      if (last.answer && last.answer.result === "hit" && navigator.vibrate) navigator.vibrate([500, 200, 500]);
    });
    ctx.i18n.addEventListener("change", renderStatic);
    window.addEventListener("online", renderWhere);
    window.addEventListener("offline", renderWhere);
    let timer = null;
    setMode("person");
    return {
      show() {
        renderWhere();
        timer = setInterval(renderWhere, 5000);
      },
      hide() {
        clearInterval(timer);
        timer = null;
      },
    };
  },
};
