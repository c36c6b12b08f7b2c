// Live camera view: fragmented MP4 over one WebSocket into Media Source Extensions.
//
// The server passes the camera's H.264 through (no transcoding), one moof+mdat fragment per
// frame. Wire protocol, server → browser:
//   text   {"type":"init","mime":"video/mp4; codecs=\"avc1.64001f\""}   a new stream starts;
//   binary the init segment (ftyp+moov), right after "init";
//   binary fragments (moof+mdat), from a keyframe on;
//   text   {"type":"state","state":"offline"|"online"|…,"detail":"…"}   the camera dropped or came
//          back; a new "init" + init segment may follow, and then the MediaSource is rebuilt.
// The player keeps the playhead at the live edge, trims what was played, and reconnects by
// itself with back-off until close().

const BACKOFF_START_MS = 500;
const BACKOFF_MAX_MS = 5000;
const MAX_LAG_S = 0.5; // behind the buffered end by more than this: jump
const EDGE_MARGIN_S = 0.1; // …to this much before the end (a frame or two to decode into)
const TARGET_LAG_S = 0.12; // between that and MAX_LAG_S, play a little faster to creep up on the edge
const CATCH_UP_RATE = 1.15;
const KEEP_BEHIND_S = 10; // played media kept for small seeks; older ranges are removed
const TRIM_EVERY_S = 15;
const MAX_QUEUE = 300; // fragments waiting to append (≈12 s at 25 fps): stuck, start afresh

/**
 * Play the live stream at `url` (ws://…, wss://… or a path on this host) in `video`.
 * @param {HTMLVideoElement} video
 * @param {string} url
 * @param {{onState?: (state: string, detail: string) => void,
 *          onStats?: (stats: {lagS: number, bufferedS: number, queued: number, fragments: number,
 *                             bytes: number, droppedFrames: number}) => void}} [handlers]
 *   onState: "connecting", "live", "reconnecting", "unsupported", "closed", or what the server
 *   said ("offline", "online", …).
 * @returns {{close: () => void}}
 */
export function openLiveView(video, url, { onState, onStats } = {}) {
  const wsUrl = toWebSocketUrl(url);
  let closed = false;
  let socket = null;
  let retryTimer = null;
  let backoff = BACKOFF_START_MS;
  let state = "";
  let media = null; // {source, buffer, objectUrl, queue, mime, lastTrim}
  let expectInit = false; // the next binary message is an init segment
  let fragments = 0;
  let bytes = 0;

  video.muted = true; // autoplay is allowed only when muted
  video.autoplay = true;
  video.playsInline = true;

  const setState = (next, detail = "") => {
    if (next === state && !detail) return;
    state = next;
    onState?.(next, detail);
  };

  // ------------------------------------------------------------------ MediaSource

  function teardownMedia() {
    if (!media) return;
    const old = media;
    media = null;
    try {
      if (old.source.readyState === "open") old.source.endOfStream();
    } catch {
      // ended or detached already
    }
    video.removeAttribute("src");
    video.load();
    URL.revokeObjectURL(old.objectUrl);
  }

  function startMedia(mime) {
    teardownMedia();
    if (!window.MediaSource || !MediaSource.isTypeSupported(mime)) {
      setState("unsupported", mime);
      return;
    }
    const source = new MediaSource();
    const m = { source, buffer: null, objectUrl: URL.createObjectURL(source), queue: [], mime, lastTrim: 0 };
    media = m;
    source.addEventListener(
      "sourceopen",
      () => {
        if (media !== m) return;
        m.buffer = source.addSourceBuffer(mime);
        m.buffer.mode = "segments"; // the fragments' own decode times place them
        m.buffer.addEventListener("updateend", () => {
          if (media === m) {
            chaseLiveEdge();
            pump();
          }
        });
        pump();
      },
      { once: true },
    );
    video.src = m.objectUrl;
  }

  function pump() {
    const m = media;
    if (!m || !m.buffer || m.buffer.updating || m.source.readyState !== "open") return;
    if (trim(m)) return; // updateend pumps again
    const chunk = m.queue.shift();
    if (!chunk) return;
    try {
      m.buffer.appendBuffer(chunk);
    } catch (err) {
      if (err.name === "QuotaExceededError") {
        m.queue.unshift(chunk);
        trim(m, true);
      } else {
        restart(`append failed: ${err.message}`);
      }
    }
  }

  // Removes played media older than KEEP_BEHIND_S; true when a removal started.
  function trim(m, force = false) {
    const now = video.currentTime;
    if (!force && now - m.lastTrim < TRIM_EVERY_S) return false;
    const ranges = m.buffer.buffered;
    if (!ranges.length) return false;
    const end = now - KEEP_BEHIND_S;
    if (ranges.start(0) >= end) return false;
    m.lastTrim = now;
    m.buffer.remove(0, end);
    return true;
  }

  function chaseLiveEdge() {
    const m = media;
    if (!m || !m.buffer) return;
    const ranges = m.buffer.buffered;
    if (!ranges.length) return;
    const end = ranges.end(ranges.length - 1);
    const lag = end - video.currentTime;
    // Behind (a join with a whole GOP, a stall, a background tab) or before the first range
    if (lag > MAX_LAG_S || video.currentTime < ranges.start(0)) {
      video.currentTime = Math.max(ranges.start(ranges.length - 1), end - EDGE_MARGIN_S);
    }
    // The decoder's preroll after a jump leaves a few hundred ms behind the edge; a seek would
    // preroll again, a slightly faster rate (muted: no pitch to hear) closes it without a glitch
    const rate = lag > TARGET_LAG_S + 0.05 ? CATCH_UP_RATE : lag < TARGET_LAG_S ? 1 : video.playbackRate;
    if (video.playbackRate !== rate) video.playbackRate = rate;
    if (video.paused) video.play().catch(() => {}); // muted: allowed; retried on the next append
  }

  // ------------------------------------------------------------------- WebSocket

  function connect() {
    retryTimer = null;
    if (closed) return;
    setState("connecting");
    const ws = new WebSocket(wsUrl);
    ws.binaryType = "arraybuffer";
    socket = ws;
    ws.onmessage = (event) => {
      if (socket !== ws) return;
      if (typeof event.data === "string") onText(event.data);
      else onBinary(event.data);
    };
    ws.onclose = (event) => {
      if (socket !== ws) return;
      socket = null;
      scheduleReconnect(`closed (${event.code})`);
    };
    ws.onerror = () => {}; // onclose follows and reconnects
  }

  function scheduleReconnect(detail) {
    if (closed || retryTimer !== null) return;
    setState("reconnecting", `${detail}; retry in ${backoff} ms`);
    retryTimer = setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
  }

  // The stream cannot go on as it is: drop the socket; the reconnection starts at a keyframe.
  function restart(detail) {
    teardownMedia();
    const ws = socket;
    socket = null;
    if (ws) ws.close();
    scheduleReconnect(detail);
  }

  function onText(text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (message.type === "init") {
      expectInit = true;
      startMedia(message.mime);
    } else if (message.type === "state") {
      if (message.state !== "online") teardownMedia(); // the old stream's picture is stale
      setState(message.state, message.detail || "");
    }
  }

  function onBinary(data) {
    if (!media) return; // no "init" yet, or an unsupported codec
    if (expectInit) {
      expectInit = false;
    } else {
      fragments += 1;
      bytes += data.byteLength;
      if (state !== "live") {
        backoff = BACKOFF_START_MS; // media flows: the next drop starts its back-off afresh
        setState("live");
      }
    }
    if (media.queue.length >= MAX_QUEUE) {
      restart("fell too far behind");
      return;
    }
    media.queue.push(data);
    pump();
  }

  // ------------------------------------------------------------------------ stats

  const statsTimer = setInterval(() => {
    if (!media || !media.buffer) return;
    chaseLiveEdge(); // also when no fragment arrives (a paused tab coming back)
    if (!onStats) return;
    const ranges = media.buffer.buffered;
    const end = ranges.length ? ranges.end(ranges.length - 1) : video.currentTime;
    const quality = video.getVideoPlaybackQuality?.();
    onStats({
      lagS: Math.max(0, end - video.currentTime),
      bufferedS: ranges.length ? end - ranges.start(0) : 0,
      queued: media.queue.length,
      fragments,
      bytes,
      droppedFrames: quality ? quality.droppedVideoFrames : 0,
    });
  }, 1000);

  connect();

  return {
    close() {
      if (closed) return;
      closed = true;
      clearInterval(statsTimer);
      if (retryTimer !== null) clearTimeout(retryTimer);
      const ws = socket;
      socket = null;
      if (ws) ws.close();
      teardownMedia();
      setState("closed");
    },
  };
}

function toWebSocketUrl(url) {
  if (/^wss?:\/\//.test(url)) return url;
  const base = new URL(url, window.location.href);
  base.protocol = base.protocol === "https:" ? "wss:" : "ws:";
  return base.href;
}

// ----------------------------------------------------------------- the timecode strip
//
// Test pictures carry the wall-clock time they were made in their top-left corner: 64 cells of
// 8×8 pixels on rows 0..7, cell i at x = 8i..8i+7, white = 1, black = 0. Cells 0,1 = 1,0 (the
// marker); cells 2..49 = 48-bit big-endian milliseconds since the epoch; cells 50..57 = the sum
// of those 6 bytes mod 256.

const CELL = 8;
const CELLS = 64;
const canvases = new WeakMap();

/**
 * The timecode of the frame `video` shows now (ms since the epoch), or null when there is none.
 * @param {HTMLVideoElement} video
 * @returns {number | null}
 */
export function readTimecode(video) {
  if (video.readyState < 2 || video.videoWidth < CELL * CELLS || video.videoHeight < CELL) return null;
  let ctx = canvases.get(video);
  if (!ctx) {
    const canvas = document.createElement("canvas");
    canvas.width = CELL * CELLS;
    canvas.height = CELL;
    ctx = canvas.getContext("2d", { willReadFrequently: true });
    canvases.set(video, ctx);
  }
  // Only the strip: source pixels 1:1, no scaling to blur the cells
  ctx.drawImage(video, 0, 0, CELL * CELLS, CELL, 0, 0, CELL * CELLS, CELL);
  const pixels = ctx.getImageData(0, 0, CELL * CELLS, CELL).data;
  const bit = (cell) => {
    let sum = 0;
    for (let y = 2; y < 6; y++) {
      for (let x = cell * CELL + 2; x < cell * CELL + 6; x++) {
        const i = (y * CELL * CELLS + x) * 4;
        sum += 0.299 * pixels[i] + 0.587 * pixels[i + 1] + 0.114 * pixels[i + 2];
      }
    }
    return sum / 16 > 128 ? 1 : 0;
  };
  if (bit(0) !== 1 || bit(1) !== 0) return null;
  let value = 0; // 48 bits: beyond 32-bit integer operators, well within a double's 53
  const bytes = [0, 0, 0, 0, 0, 0];
  for (let i = 0; i < 48; i++) {
    const b = bit(2 + i);
    value = value * 2 + b;
    bytes[i >> 3] = (bytes[i >> 3] << 1) | b;
  }
  let checksum = 0;
  for (let i = 0; i < 8; i++) checksum = (checksum << 1) | bit(50 + i);
  const expected = bytes.reduce((a, b) => a + b, 0) % 256;
  return checksum === expected ? value : null;
}

/**
 * Glass-to-glass latency of frames carrying the timecode strip: for each presented frame,
 * Date.now() − its timecode (the streamer and the browser must share a clock).
 * @param {HTMLVideoElement} video
 * @param {{samples?: number, timeoutMs?: number}} [options]
 * @returns {Promise<{samples: number[], p50: number|null, p90: number|null, p99: number|null}>}
 */
export function measureLatency(video, { samples = 50, timeoutMs = 20000 } = {}) {
  return new Promise((resolve) => {
    const out = [];
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      const sorted = [...out].sort((a, b) => a - b);
      const pct = (p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : null);
      resolve({ samples: out, p50: pct(0.5), p90: pct(0.9), p99: pct(0.99) });
    };
    setTimeout(finish, timeoutMs);
    const hasFrameCallback = "requestVideoFrameCallback" in HTMLVideoElement.prototype;
    const schedule = () =>
      hasFrameCallback ? video.requestVideoFrameCallback(onFrame) : requestAnimationFrame(onFrame);
    let last = null;
    function onFrame() {
      if (done) return;
      const now = Date.now();
      const code = readTimecode(video);
      if (code !== null && code !== last) {
        last = code; // without frame callbacks, count each frame once
        out.push(now - code);
      }
      if (out.length >= samples) finish();
      else schedule();
    }
    schedule();
  });
}
