// Reports the device's own position (browser geolocation) for the officer's unit: at most one
// report every 5 s, always the latest fix. A report that fails (offline) is dropped, never queued:
// a position is superseded within seconds, so only the newest fix is worth sending.

const MIN_INTERVAL_MS = 5000;
const MAX_ACCURACY_M = 1000; // coarser fixes (IP-based guesses on a desktop) are not a unit's position

export class PositionReporter {
  /**
   * @param {import("/static/shared/api.js").Api} api
   * @param {{unitId: () => string | null, inArea?: (lat: number, lon: number) => boolean,
   *          onFix?: (fix: object) => void, onOutside?: () => void}} options
   */
  constructor(api, { unitId, inArea = () => true, onFix = () => {}, onOutside = () => {} }) {
    this.api = api;
    this.unitId = unitId;
    this.inArea = inArea;
    this.onFix = onFix;
    this.onOutside = onOutside;
    this.watchId = null;
    this.latest = null;
    this.timer = null;
    this.inFlight = false;
    this.lastSentAt = 0;
    this.sendTimes = true; // false once the server finds our clock ahead (422 future_position)
  }

  start() {
    if (this.watchId !== null || !navigator.geolocation) return;
    this.watchId = navigator.geolocation.watchPosition(
      (p) => this._fix(p),
      () => {
        // Permission refused or no fix: the unit is simply not reported from this device.
      },
      { enableHighAccuracy: true, maximumAge: 5000, timeout: 60000 },
    );
  }

  stop() {
    if (this.watchId !== null && navigator.geolocation) navigator.geolocation.clearWatch(this.watchId);
    this.watchId = null;
    clearTimeout(this.timer);
    this.timer = null;
    this.latest = null;
  }

  _fix(position) {
    const c = position.coords;
    if (!Number.isFinite(c.latitude) || !Number.isFinite(c.longitude)) return;
    if (Number.isFinite(c.accuracy) && c.accuracy > MAX_ACCURACY_M) return;
    if (!this.inArea(c.latitude, c.longitude)) {
      this.onOutside();
      return;
    }
    const fix = {
      lat: c.latitude,
      lon: c.longitude,
      heading: Number.isFinite(c.heading) && c.speed > 0.5 ? ((c.heading % 360) + 360) % 360 : null,
      speed: Number.isFinite(c.speed) ? Math.min(Math.max(c.speed, 0), 100) : null,
      // The server's GPS filter weighs a jump against the fixes' accuracy radii.
      accuracy: Number.isFinite(c.accuracy) ? c.accuracy : null,
      altitude: Number.isFinite(c.altitude) ? c.altitude : null,
      ts: new Date(position.timestamp || Date.now()).toISOString(),
    };
    this.latest = fix;
    this.onFix(fix);
    this._schedule();
  }

  _schedule() {
    if (this.inFlight || this.timer) return;
    const wait = Math.max(0, this.lastSentAt + MIN_INTERVAL_MS - Date.now());
    this.timer = setTimeout(() => this._send(), wait);
  }

  async _send() {
    this.timer = null;
    const fix = this.latest;
    const unitId = this.unitId();
    if (!fix || !unitId || !this.api.token) return;
    this.latest = null;
    this.inFlight = true;
    this.lastSentAt = Date.now();
    const report = { unit_id: unitId, lat: fix.lat, lon: fix.lon, heading: fix.heading, speed: fix.speed };
    if (fix.accuracy !== null) report.accuracy = fix.accuracy;
    if (fix.altitude !== null) report.altitude = fix.altitude;
    if (this.sendTimes) report.ts = fix.ts;
    try {
      await this.api.post("/api/units/positions", { positions: [report] });
    } catch (exc) {
      // Offline or refused: this fix is dropped; the next one goes out in its turn.
      if (exc && exc.code === "future_position") this.sendTimes = false;
    } finally {
      this.inFlight = false;
      if (this.latest) this._schedule();
    }
  }
}
