// The terminal's map: our own road layer (GET /api/map/roads, drawn on a canvas), water, parks and
// street names (GET /api/map/features), or the configured tile server; the unit, the incident and
// the road route between them. No external tile servers.

import * as L from "/static/vendor/leaflet/leaflet-src.esm.js";
import { MapLabels } from "/static/shared/labels.js";

const OSM_ATTRIBUTION = "© OpenStreetMap contributors";
const HARBIN = { lat: 45.757, lon: 126.642 };

// Road classes as greys and widths: the bigger the road, the darker and wider.
const ROADS = {
  motorway: { color: "#4b5563", weight: 5 },
  trunk: { color: "#5b6472", weight: 4.5 },
  primary: { color: "#6b7280", weight: 4 },
  secondary: { color: "#8a919c", weight: 3 },
  tertiary: { color: "#a3a9b2", weight: 2.4 },
  minor: { color: "#bfc4cb", weight: 1.6 },
};
// Water and green as on a printed city map; names dark on a light halo, read in daylight.
const AREAS = {
  water: "#aacbe3",
  park: "#cfe6bf",
  wood: "#bcd9ad",
  grass: "#d9ecc9",
};
const WATERWAY_WEIGHT = { river: 4, canal: 2.5, stream: 1.6, drain: 1.2, ditch: 1 };
const NAME_STYLE = {
  street: { px: 12, fill: "#3f4650" },
  waterway: { px: 12, fill: "#2f6ea3" },
  water: { px: 12, fill: "#2f6ea3" },
  quarter: { px: 14, fill: "#30363f", bold: true },
  park: { px: 11, fill: "#3d7a3a" },
  place: { px: 11, fill: "#5b636e" },
};
const LANDMARK_DOTS = {
  hospital: "#c0392b",
  police: "#1456d9",
  station: "#7d4fb3",
  school: "#a07d1c",
  mall: "#c0622b",
  government: "#5b6472",
  fire: "#d35400",
};

function nameStyle(label, scale) {
  const s = NAME_STYLE[label.kind] || NAME_STYLE.place;
  const px = Math.round(s.px * scale);
  return {
    px,
    font: `${s.bold ? "600 " : ""}${px}px system-ui, 'WenQuanYi Zen Hei', sans-serif`,
    fill: s.fill,
    halo: "rgba(255, 255, 255, 0.9)",
    dot: LANDMARK_DOTS[label.kind],
  };
}

const ROAD_ORDER = ["minor", "tertiary", "secondary", "primary", "trunk", "motorway"];
const PRIORITY_COLOURS = { 1: "#d7263d", 2: "#f06d06", 3: "#c99a00", 4: "#4b6584" };
const USER_MOVE_GRACE_MS = 30_000; // after the officer pans the map, leave the view alone a while

export class TerminalMap {
  constructor(element) {
    this.element = element;
    this.config = null;
    this.bounds = null;
    this.userMovedAt = 0;
    this.unitMarker = null;
    this.incidentMarker = null;
    this.routeLayer = null;
    this.roadsLayer = null;
    this.straightLine = null;
    this.autoFitKey = null;
    this.map = L.map(element, {
      zoomControl: true,
      attributionControl: true,
      preferCanvas: true,
      minZoom: 9,
      maxZoom: 18,
      zoomSnap: 0.25,
    });
    this.map.attributionControl.setPrefix(false);
    this.map.setView([HARBIN.lat, HARBIN.lon], 13);
    this.renderer = L.canvas({ padding: 0.5 });
    this.map.on("dragstart zoomstart", (e) => {
      if (!this._programmatic) this.userMovedAt = Date.now();
      return e;
    });
    this.map.on("zoomend", () => {
      if (this.roadsLayer) this.roadsLayer.setStyle((f) => this._roadStyle(f));
    });
    // Water and parks in a pane of their own under the roads and the route; the names on one
    // canvas over them (under the markers), laid out again after every move.
    this.map.createPane("areas").style.zIndex = 350;
    this.names = new MapLabels(this.map, nameStyle);
    this.visibleNames = [];
    this.namesCanvas = document.createElement("canvas");
    this.namesCanvas.className = "map-names";
    this.namesCanvas.style.cssText = "position:absolute;left:0;top:0;pointer-events:none;z-index:450";
    element.appendChild(this.namesCanvas);
    this.namesFrame = 0;
    this.map.on("move zoomend resize viewreset", () => this._invalidateNames());
    // Names cannot follow Leaflet's zoom animation: hidden for its few frames, then laid out anew.
    this.map.on("zoomanim", () => {
      this.namesCanvas.style.visibility = "hidden";
    });
    this.attribution = OSM_ATTRIBUTION;
    this.map.attributionControl.addAttribution(this.attribution);
  }

  /** Read the map configuration and the base layer; every failure leaves a plain, usable map.
   * `onConfig(config)` is called as soon as the configuration is read (it carries the bureau's
   * time zone), before the roads. */
  async load(api, onConfig = () => {}) {
    try {
      this.config = await api.get("/api/map/config");
    } catch {
      this.config = null;
    }
    const cfg = this.config;
    if (cfg) onConfig(cfg);
    if (cfg && Array.isArray(cfg.bounds) && cfg.bounds.length === 2) {
      this.bounds = L.latLngBounds(cfg.bounds);
      this.map.setMaxBounds(this.bounds.pad(0.5));
    }
    if (cfg && cfg.center && !this.unitMarker) this._view([cfg.center.lat, cfg.center.lon], 13);
    if (cfg && cfg.attribution) this._setAttribution(cfg.attribution);
    if (cfg && cfg.tile_url) {
      L.tileLayer(cfg.tile_url, { attribution: cfg.tile_attribution || "", maxZoom: 19 }).addTo(this.map);
      return;
    }
    // Water, parks and names as they arrive: the roads need not wait for them.
    api.get("/api/map/features").then(
      (features) => {
        this._drawAreas(features);
        this.names.setFeatures(features);
        this._invalidateNames();
      },
      () => {},
    );
    try {
      const roads = await api.get("/api/map/roads");
      this._drawRoads(roads);
    } catch {
      // No road layer (yet): the markers and the route still show on a plain background.
    }
  }

  /** Is (lat, lon) inside the city the server covers (true when the server has not said)? */
  inArea(lat, lon) {
    return this.bounds ? this.bounds.pad(0.2).contains([lat, lon]) : true;
  }

  _setAttribution(text) {
    this.map.attributionControl.removeAttribution(this.attribution);
    this.attribution = text.includes("OpenStreetMap") ? text : `${text} ${OSM_ATTRIBUTION}`;
    this.map.attributionControl.addAttribution(this.attribution);
  }

  _drawRoads(collection) {
    if (!collection || !Array.isArray(collection.features)) return;
    const rank = (f) => ROAD_ORDER.indexOf((f.properties && f.properties.class) || "minor");
    const features = [...collection.features].sort((a, b) => rank(a) - rank(b));
    this.roadsLayer = L.geoJSON(
      { type: "FeatureCollection", features },
      { renderer: this.renderer, interactive: false, style: (f) => this._roadStyle(f) },
    ).addTo(this.map);
    this.roadsLayer.bringToBack();
  }

  _drawAreas(collection) {
    const features = (collection.features || []).filter((f) => f.properties && f.properties.layer !== "label");
    L.geoJSON(
      { type: "FeatureCollection", features },
      {
        renderer: L.canvas({ pane: "areas", padding: 0.5 }),
        pane: "areas",
        interactive: false,
        style: (f) => {
          const p = f.properties;
          const colour = p.layer === "green" ? AREAS[p.kind] || AREAS.park : AREAS.water;
          if (p.layer === "waterway") return { color: colour, weight: WATERWAY_WEIGHT[p.kind] || 1, fill: false };
          return { color: colour, fillColor: colour, weight: 0.5, fillOpacity: 1 };
        },
      },
    ).addTo(this.map);
  }

  _invalidateNames() {
    if (this.namesFrame) return;
    this.namesFrame = requestAnimationFrame(() => {
      this.namesFrame = 0;
      this._drawNames();
    });
  }

  _drawNames() {
    const size = this.map.getSize();
    const ratio = window.devicePixelRatio || 1;
    const canvas = this.namesCanvas;
    if (canvas.width !== Math.round(size.x * ratio) || canvas.height !== Math.round(size.y * ratio)) {
      canvas.width = Math.round(size.x * ratio);
      canvas.height = Math.round(size.y * ratio);
      canvas.style.width = `${size.x}px`;
      canvas.style.height = `${size.y}px`;
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, size.x, size.y);
    canvas.style.visibility = "visible";
    const names = this.names.layout(ctx, 1, () => this._keepClear());
    this.visibleNames = this.names.draw(ctx, names);
  }

  /** Screen boxes the names keep clear of: the unit, the incident pin and the map's controls. */
  _keepClear() {
    const origin = this.element.getBoundingClientRect();
    const markers = [this.unitMarker, this.incidentMarker].map((m) => m && m.getElement());
    return [...markers, ...this.element.querySelectorAll(".leaflet-control")]
      .filter(Boolean)
      .map((e) => e.getBoundingClientRect())
      .filter((r) => r.width > 0)
      .map((r) => ({ x: r.left - origin.left, y: r.top - origin.top, w: r.width, h: r.height }));
  }

  _roadStyle(feature) {
    const cls = (feature.properties && feature.properties.class) || "minor";
    const style = ROADS[cls] || ROADS.minor;
    // Thinner roads when zoomed out, so the city does not turn into a grey smear.
    const z = this.map.getZoom();
    const scale = z >= 16 ? 1.6 : z >= 15 ? 1.3 : z >= 14 ? 1 : z >= 13 ? 0.8 : 0.6;
    return {
      color: style.color,
      weight: style.weight * scale,
      opacity: cls === "minor" && z < 13 ? 0.5 : 1,
      lineCap: "round",
      lineJoin: "round",
    };
  }

  /** The unit's own position (null hides it); heading turns the arrow. */
  setUnit(position, label) {
    if (!position) {
      if (this.unitMarker) this.unitMarker.remove();
      this.unitMarker = null;
      return;
    }
    const heading = Number.isFinite(position.heading) ? position.heading : null;
    const html =
      `<div class="unit-dot">${heading === null ? "" : `<div class="unit-arrow" style="transform:rotate(${heading}deg)"></div>`}</div>` +
      `<div class="unit-label">${escapeHtml(label || "")}</div>`;
    const icon = () => L.divIcon({ className: "unit-marker", html, iconSize: [28, 28], iconAnchor: [14, 14] });
    if (!this.unitMarker) {
      this.unitMarker = L.marker([position.lat, position.lon], { icon: icon(), keyboard: false, zIndexOffset: 500 });
      this.unitMarker.addTo(this.map);
    } else {
      this.unitMarker.setLatLng([position.lat, position.lon]);
      if (html !== this.unitHtml) this.unitMarker.setIcon(icon()); // only when it looks different
    }
    this.unitHtml = html;
    this._updateStraightLine();
  }

  /** The incident's place (null hides it). */
  setIncident(incident) {
    if (this.incidentMarker) this.incidentMarker.remove();
    this.incidentMarker = null;
    if (incident && incident.location) {
      const colour = PRIORITY_COLOURS[incident.priority] || PRIORITY_COLOURS[3];
      const icon = L.divIcon({
        className: "incident-marker",
        html: `<div class="incident-pin" style="--pin:${colour}"><span>!</span></div>`,
        iconSize: [34, 44],
        iconAnchor: [17, 42],
      });
      this.incidentMarker = L.marker([incident.location.lat, incident.location.lon], {
        icon,
        keyboard: false,
        zIndexOffset: 1000,
      }).addTo(this.map);
    }
    this._updateStraightLine();
  }

  /** The road route (a GeoJSON LineString Feature) or null: then a dashed straight line instead. */
  setRoute(feature) {
    if (this.routeLayer) this.routeLayer.remove();
    this.routeLayer = null;
    if (feature && feature.geometry) {
      this.routeLayer = L.layerGroup([
        L.geoJSON(feature, {
          renderer: this.renderer,
          interactive: false,
          style: { color: "#ffffff", weight: 10, opacity: 0.95, lineCap: "round", lineJoin: "round" },
        }),
        L.geoJSON(feature, {
          renderer: this.renderer,
          interactive: false,
          style: { color: "#1456d9", weight: 6, opacity: 1, lineCap: "round", lineJoin: "round" },
        }),
      ]).addTo(this.map);
    }
    this._updateStraightLine();
  }

  _updateStraightLine() {
    const want = this.unitMarker && this.incidentMarker && !this.routeLayer;
    if (!want) {
      if (this.straightLine) this.straightLine.remove();
      this.straightLine = null;
      return;
    }
    const points = [this.unitMarker.getLatLng(), this.incidentMarker.getLatLng()];
    if (this.straightLine) this.straightLine.setLatLngs(points);
    else {
      this.straightLine = L.polyline(points, {
        renderer: this.renderer,
        color: "#1456d9",
        weight: 3,
        dashArray: "6 8",
        interactive: false,
      }).addTo(this.map);
    }
  }

  /**
   * Keep the view on what matters: the unit, the incident and the route while assigned, the unit
   * alone otherwise. A new `key` (another assignment) re-frames at once; `refit` (a new route)
   * re-frames unless the officer moved the map a moment ago; otherwise the view only follows the
   * unit when it is about to leave it.
   */
  frame(key, refit = false) {
    const changed = key !== this.autoFitKey;
    this.autoFitKey = key;
    const userRecently = Date.now() - this.userMovedAt < USER_MOVE_GRACE_MS;
    if (!changed && userRecently) return;
    const unit = this.unitMarker ? this.unitMarker.getLatLng() : null;
    if (!changed && !refit) {
      if (unit && !this.map.getBounds().pad(-0.15).contains(unit)) this._fit(false);
      return;
    }
    this._fit(changed);
  }

  _fit(changed) {
    const points = [];
    if (this.unitMarker) points.push(this.unitMarker.getLatLng());
    if (this.incidentMarker) points.push(this.incidentMarker.getLatLng());
    if (this.routeLayer) {
      this.routeLayer.eachLayer((layer) => {
        const b = layer.getBounds();
        if (b.isValid()) points.push(b.getSouthWest(), b.getNorthEast());
      });
    }
    if (points.length === 0) return;
    if (points.length === 1) {
      this._view(points[0], changed ? 15 : Math.max(this.map.getZoom(), 14));
      return;
    }
    this._programmatic = true;
    this.map.fitBounds(L.latLngBounds(points), { padding: [40, 40], maxZoom: 16, animate: false });
    this._programmatic = false;
  }

  _view(latlng, zoom) {
    this._programmatic = true;
    this.map.setView(latlng, zoom, { animate: false });
    this._programmatic = false;
  }

  /** The container changed size (layout switch, card shown or hidden). */
  resize() {
    this.map.invalidateSize({ animate: false });
  }
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
