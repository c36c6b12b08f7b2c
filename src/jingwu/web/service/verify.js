// The public check a certificate's QR code opens: its standing, kind, dates and station, in both
// languages; never the person (the API answers nothing about them).

const WORDS = {
  valid: ["有效", "Valid", "ok"],
  expired: ["已过期", "Expired", "bad"],
  revoked: ["已撤销", "Revoked", "bad"],
  unknown: ["无此证明（核验码不存在）", "Unknown: no certificate has this code", "bad"],
};

async function check() {
  const code = decodeURIComponent(location.pathname.split("/").pop() || "");
  document.getElementById("code").textContent = code;
  const result = document.getElementById("result");
  try {
    const response = await fetch(`/api/service/verify/${encodeURIComponent(code)}`, { cache: "no-store" });
    if (response.status === 429) {
      result.textContent = "查询过于频繁，请稍后再试 Too many checks; try again shortly";
      result.className = "message bad";
      return;
    }
    const standing = await response.json();
    const [zh, en, kind] = WORDS[standing.status] || WORDS.unknown;
    result.textContent = `${zh} ${en}`;
    result.className = `message ${kind}`;
    result.dataset.status = standing.status;
    if (standing.status !== "unknown") {
      document.getElementById("kind").textContent = `${standing.kind_zh || standing.kind} ${standing.kind_en || ""}`;
      document.getElementById("issued").textContent = standing.issued_on || "";
      document.getElementById("valid-until").textContent = standing.valid_until || "";
      document.getElementById("station").textContent = standing.station_name || "";
      document.getElementById("facts").hidden = false;
    }
  } catch {
    result.textContent = "无法连接服务器 The server cannot be reached";
    result.className = "message bad";
  }
}

check();
