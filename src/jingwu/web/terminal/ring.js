// The dispatch alert: a two-tone call made with WebAudio (no sound files) plus vibration, repeated
// until the officer signs for the dispatch, silences it, or it has rung for two minutes.

const REPEAT_MS = 2600;
const MAX_RING_MS = 120_000;
const VIBRATION = [400, 150, 400, 150, 400];

export class Ringer {
  constructor() {
    this.ctx = null;
    this.timer = null;
    this.startedAt = 0;
  }

  /** Browsers allow sound only after a user gesture: call this from one (any tap will do). */
  unlock() {
    const AudioCtx = window.AudioContext || window.webkitAudioContext;
    if (!AudioCtx) return;
    try {
      if (!this.ctx) this.ctx = new AudioCtx();
      if (this.ctx.state === "suspended") this.ctx.resume().catch(() => {});
    } catch {
      this.ctx = null;
    }
  }

  /** Whether sound can play now (false until the first tap after a page load). */
  get audible() {
    return Boolean(this.ctx && this.ctx.state === "running");
  }

  get ringing() {
    return this.timer !== null;
  }

  /** Ring now and every few seconds while `keepRinging()` says so. */
  start(keepRinging = () => true) {
    if (this.timer) return;
    this.startedAt = Date.now();
    const tick = () => {
      if (!keepRinging() || Date.now() - this.startedAt > MAX_RING_MS) {
        this.stop();
        return;
      }
      this._tone();
      this._vibrate(VIBRATION);
    };
    this.timer = setInterval(tick, REPEAT_MS);
    tick();
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this._vibrate(0);
  }

  /** One short confirmation beep (an action was recorded). */
  chirp() {
    this._note(1320, 0, 0.09, 0.12);
  }

  _vibrate(pattern) {
    try {
      if (navigator.vibrate && navigator.userActivation?.hasBeenActive !== false) navigator.vibrate(pattern);
    } catch {
      // not available here
    }
  }

  _tone() {
    // Hi-lo, three times: about 1.2 s of sound in every 2.6 s.
    for (let i = 0; i < 6; i += 1) this._note(i % 2 ? 784 : 1175, i * 0.2, 0.18, 0.35);
  }

  _note(freq, at, length, volume) {
    const ctx = this.ctx;
    if (!ctx || ctx.state !== "running") return;
    const t0 = ctx.currentTime + at;
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = "square";
    osc.frequency.setValueAtTime(freq, t0);
    gain.gain.setValueAtTime(0.0001, t0);
    gain.gain.exponentialRampToValueAtTime(volume, t0 + 0.015);
    gain.gain.setValueAtTime(volume, t0 + length - 0.03);
    gain.gain.exponentialRampToValueAtTime(0.0001, t0 + length);
    osc.connect(gain).connect(ctx.destination);
    osc.start(t0);
    osc.stop(t0 + length + 0.02);
  }
}
