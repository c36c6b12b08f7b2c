// The situation map: the city's roads, water, parks and names drawn from our own OpenStreetMap
// extract (no tile server is needed), station jurisdictions, and one canvas on top that draws the
// names, every unit and incident.
//
// Why one hand-drawn canvas rather than a Leaflet marker per unit: the console must stay smooth
// with 2,000 units and 500 open incidents moving live. DOM markers cost a node each and a layout
// per move; one canvas redrawn at most once per animation frame costs a few milliseconds.

import * as L from "/static/vendor/leaflet/leaflet-src.esm.js";
import { BoxGrid, MapLabels, labelHits } from "/static/shared/labels.js";

/** A station's jurisdiction (GeoJSON Polygon or MultiPolygon, holes included) as Leaflet's nested
 * [lat, lon] rings. */
export function jurisdictionLatLngs(geometry) {
  const flip = (ring) => ring.map(([lon, lat]) => [lat, lon]);
  if (geometry.type === "Polygon") return geometry.coordinates.map(flip);
  return geometry.coordinates.map((polygon) => polygon.map(flip));
}

const ROAD_STYLE = {
  motorway: { color: "#6b7f99", weight: 3.5 },
  trunk: { color: "#62768f", weight: 3 },
  primary: { color: "#54687f", weight: 2.4 },
  secondary: { color: "#475a70", weight: 1.8 },
  tertiary: { color: "#3b4d62", weight: 1.4 },
  minor: { color: "#2e3e52", weight: 1 },
};

// Green means free, and only free: a unit cleared from a call (处置完毕, not yet back to 空闲) or
// busy may be pulled for urgent work only, after every free unit, and is drawn amber, as the
// recommendation list marks it (one rule: dispatch/recommend.py).
const CONDITIONAL_COLOUR = "#e8a317";

// Water and green areas stay dark and quiet under the roads: the units are what must stand out.
const AREA_STYLE = {
  water: { color: "#16395c", fillColor: "#16395c" },
  park: { color: "#143024", fillColor: "#143024" },
  wood: { color: "#122a20", fillColor: "#122a20" },
  grass: { color: "#15291f", fillColor: "#15291f" },
};
const WATERWAY_WEIGHT = { river: 4, canal: 2.5, stream: 1.6, drain: 1.2, ditch: 1 };
// Names: the bigger the thing, the brighter and larger; a landmark's square in a muted colour, so
// that it never reads as a unit (circle, arrow) or an incident (diamond).
const LABEL_STYLE = {
  street: { px: 11, fill: "#8fa3b8" },
  major: { px: 12, fill: "#b3c3d4" },
  waterway: { px: 12, fill: "#6fa3d8" },
  water: { px: 12, fill: "#6fa3d8" },
  quarter: { px: 14, fill: "#c5d0dc", bold: true },
  village: { px: 12, fill: "#a9b6c4" },
  community: { px: 11, fill: "#7d8fa3" },
  park: { px: 11, fill: "#6fae86" },
  landmark: { px: 11, fill: "#aebdcc" },
};
const LANDMARK_DOTS = {
  hospital: "#b05656",
  police: "#4f79a8",
  station: "#8a6fb0",
  school: "#a08a3c",
  mall: "#a8703f",
  government: "#6f7f8f",
  fire: "#b0653c",
};
const MAJOR_ROADS = new Set(["motorway", "trunk", "primary", "secondary"]);

function labelStyle(label, scale) {
  let key = label.kind;
  if (label.kind === "street") key = MAJOR_ROADS.has(label.cls) ? "major" : "street";
  else if (LANDMARK_DOTS[label.kind]) key = "landmark";
  const s = LABEL_STYLE[key] || LABEL_STYLE.street;
  const px = Math.round(s.px * scale);
  return {
    px,
    font: `${s.bold ? "600 " : ""}${px}px 'WenQuanYi Zen Hei', system-ui, sans-serif`,
    fill: s.fill,
    halo: "#0b121b",
    dot: LANDMARK_DOTS[label.kind],
  };
}

export const STATUS_COLOURS = {
  available: "#2ecc71",
  dispatched: "#ff9f1a",
  acknowledged: "#ffc04d",
  en_route: "#3d8bfd",
  on_scene: "#b26bff",
  cleared: CONDITIONAL_COLOUR,
  busy: CONDITIONAL_COLOUR,
  out_of_service: "#5d6d7e",
  off_duty: "#3d4b5c",
};

export const PRIORITY_COLOURS = { 1: "#ff3b3b", 2: "#ff9f1a", 3: "#f4d03f", 4: "#5dade2" };

const LABEL_ZOOM = 14; // call signs appear from this zoom on (below it they would overlap)
const LABEL_LIMIT = 400; // …and only while no more than this many units are in view
const HIT_RADIUS_PX = 12;

export class SituationMap {
  /**
   * @param {HTMLElement} element
   * @param {{onSelectIncident: (id: string) => void, onSelectUnit: (id: string) => void,
   *          onPick: (lat: number, lon: number) => void}} handlers
   */
  constructor(element, handlers) {
    this.handlers = handlers;
    this.units = () => [];
    this.incidents = () => [];
    this.selectedId = null;
    this.highlightUnits = new Set();
    this.picking = false;
    this.picked = null;
    this.frame = 0;
    this.perf = { draws: 0, lastMs: 0, maxMs: 0, totalMs: 0, drawnUnits: 0, drawnIncidents: 0 };
    this.map = L.map(element, {
      zoomControl: true,
      // Animated zoom would have to re-project the canvas mid-flight; a crisp jump reads better
      // on a busy map and keeps every frame cheap.
      zoomAnimation: false,
      fadeAnimation: false,
      markerZoomAnimation: false,
      preferCanvas: true,
      attributionControl: true,
    });
    this.map.attributionControl.setPrefix(false);
    this.routes = L.featureGroup().addTo(this.map);
    this.canvas = document.createElement("canvas");
    this.canvas.className = "unit-layer";
    this.map.getContainer().appendChild(this.canvas);
    this.ctx = this.canvas.getContext("2d");
    this.names = new MapLabels(this.map, labelStyle);
    this.stationLabels = [];
    this.visibleNames = [];
    for (const name of ["move", "zoom", "resize", "viewreset"]) this.map.on(name, () => this.invalidate());
    this.map.on("resize", () => this._resizeCanvas());
    this.map.on("click", (e) => this._click(e));
  }

  /** Base map and jurisdictions; `config` is GET /api/map/config. */
  async load(api, config, stations) {
    const bounds = L.latLngBounds(config.bounds);
    this.map.fitBounds(bounds, { padding: [10, 10] });
    this.map.setMaxBounds(bounds.pad(0.5));
    this.map.setMinZoom(10);
    this.map.attributionControl.addAttribution(config.attribution || "© OpenStreetMap contributors");
    if (config.tile_url) {
      // An operator's own tile server (or Tianditu) when one is configured.
      L.tileLayer(config.tile_url, { attribution: config.tile_attribution || "", maxZoom: 19 }).addTo(this.map);
    } else {
      // Water and parks (in a pane under the roads) and their names come as they arrive: the
      // roads need not wait for them, and draw alone if they fail.
      this.map.createPane("areas").style.zIndex = 350;
      api.get("/api/map/features").then(
        (features) => {
          this._drawAreas(features);
          this.names.setFeatures(features);
          this.invalidate();
        },
        () => {},
      );
      const roads = await api.get("/api/map/roads");
      L.geoJSON(roads, {
        renderer: L.canvas({ padding: 0.3 }),
        interactive: false,
        style: (feature) => ({ ...(ROAD_STYLE[feature.properties.class] || ROAD_STYLE.minor), opacity: 1 }),
      }).addTo(this.map);
    }
    for (const station of stations) {
      const polygon = L.polygon(jurisdictionLatLngs(station.jurisdiction), {
        color: "#3d8bfd",
        weight: 1.2,
        dashArray: "6 6",
        fill: true,
        fillOpacity: 0.03,
        interactive: false,
      }).addTo(this.map);
      // Leaflet inserts a string tooltip as HTML; a text node keeps a station's name inert.
      const label = document.createElement("span");
      label.textContent = station.name;
      polygon.bindTooltip(label, { permanent: true, direction: "center", className: "station-label" });
      this.stationLabels.push(label);
    }
    this._resizeCanvas();
  }

  _drawAreas(features) {
    const areas = features.features.filter((f) => f.properties.layer !== "label");
    L.geoJSON({ type: "FeatureCollection", features: areas }, {
      renderer: L.canvas({ pane: "areas", padding: 0.3 }),
      pane: "areas",
      interactive: false,
      style: (f) => {
        const p = f.properties;
        if (p.layer === "waterway") {
          return { ...AREA_STYLE.water, weight: WATERWAY_WEIGHT[p.kind] || 1, opacity: 1, fill: false };
        }
        const style = p.layer === "water" ? AREA_STYLE.water : AREA_STYLE[p.kind] || AREA_STYLE.park;
        return { ...style, weight: 0.5, opacity: 1, fillOpacity: 1 };
      },
    }).addTo(this.map);
  }

  /** Screen boxes the map's names keep clear of: the station names (Leaflet tooltips), and the
   * legend and controls over the map, under which a name could not be read. */
  _keepClear() {
    const container = this.map.getContainer();
    const origin = container.getBoundingClientRect();
    const over = [...container.parentElement.querySelectorAll(".legend, .leaflet-control")];
    return [...this.stationLabels.map((label) => label.parentElement), ...over]
      .filter((e) => e && e.offsetParent !== null)
      .map((e) => e.getBoundingClientRect())
      .filter((r) => r.width > 0)
      .map((r) => ({ x: r.left - origin.left, y: r.top - origin.top, w: r.width, h: r.height }));
  }

  /** The app hands over functions that return its current units and incidents. */
  setSources(units, incidents) {
    this.units = units;
    this.incidents = incidents;
    this.invalidate();
  }

  setSelected(incidentId, unitIds = []) {
    this.selectedId = incidentId;
    this.highlightUnits = new Set(unitIds);
    this.invalidate();
  }

  /** Road routes of the recommended units (GeoJSON LineString features); the first is the top one. */
  showRoutes(routes) {
    this.routes.clearLayers();
    routes.forEach((route, index) => {
      if (!route) return;
      L.geoJSON(route, {
        interactive: false,
        style: index === 0
          ? { color: "#4da3ff", weight: 5, opacity: 0.95 }
          : { color: "#9bb7d6", weight: 3, opacity: 0.7, dashArray: "6 6" },
      }).addTo(this.routes);
    });
  }

  focus(lat, lon, zoom) {
    this.map.setView([lat, lon], Math.max(this.map.getZoom(), zoom || 14));
  }

  /** Mark the new incident's place chosen another way (an address suggestion) and bring it into view. */
  place(lat, lon) {
    this.picked = { lat, lon };
    this.focus(lat, lon, 16);
    this.invalidate();
  }

  setPicking(on) {
    this.picking = on;
    if (!on) this.picked = null;
    this.map.getContainer().classList.toggle("picking", on);
    this.invalidate();
  }

  /** Ask for a redraw; several changes within one frame cost one draw. */
  invalidate() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  _resizeCanvas() {
    const size = this.map.getSize();
    const ratio = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(size.x * ratio);
    this.canvas.height = Math.round(size.y * ratio);
    this.canvas.style.width = `${size.x}px`;
    this.canvas.style.height = `${size.y}px`;
    this.ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    this.invalidate();
  }

  draw() {
    const started = performance.now();
    const ctx = this.ctx;
    const size = this.map.getSize();
    ctx.clearRect(0, 0, size.x, size.y);
    const inView = (p) => p.x > -20 && p.y > -20 && p.x < size.x + 20 && p.y < size.y + 20;

    // Units first, incidents on top: the incident is what the dispatcher acts on.
    const units = [];
    for (const unit of this.units()) {
      if (!unit.position) continue;
      const p = this.map.latLngToContainerPoint([unit.position.lat, unit.position.lon]);
      if (inView(p)) units.push([unit, p]);
    }
    const labels = this.map.getZoom() >= LABEL_ZOOM && units.length <= LABEL_LIMIT;
    // Call signs are read from across the room on the wall: larger there.
    const wall = document.body.classList.contains("bigscreen");
    const fontPx = wall ? 18 : 11;
    ctx.lineWidth = 1.2;
    ctx.font = `${fontPx}px 'WenQuanYi Zen Hei', system-ui, sans-serif`;
    ctx.textBaseline = "middle";
    // Labels that would overlap one already drawn are left out (highlighted units are placed
    // first): one readable call sign beats three on top of each other.
    const placed = [];
    const labelBoxes = [];
    const fits = (box) => !placed.some((b) => box.x < b.x + b.w && b.x < box.x + box.w && box.y < b.y + b.h && b.y < box.y + box.h);
    const ordered = [...units].sort((a, b) => this.highlightUnits.has(b[0].id) - this.highlightUnits.has(a[0].id));
    const labelled = new Set();
    if (labels || this.highlightUnits.size) {
      for (const [unit, p] of ordered) {
        if (!labels && !this.highlightUnits.has(unit.id)) continue;
        const box = { x: p.x + 9, y: p.y - fontPx / 2 - 1, w: ctx.measureText(unit.callsign).width, h: fontPx + 2 };
        if (!fits(box)) continue;
        placed.push(box);
        labelBoxes.push({ ...box, id: unit.id });
        labelled.add(unit.id);
      }
    }
    this.labelBoxes = labelBoxes;
    // The map's names under everything else, laid out again only when the view moved; a name
    // that a call sign would cover this frame is left out rather than drawn beneath it.
    const names = this.names.layout(ctx, wall ? 1.4 : 1, () => this._keepClear());
    const signs = new BoxGrid();
    for (const box of labelBoxes) signs.add(box);
    this.visibleNames = this.names.draw(ctx, names, labelBoxes.length ? (n) => labelHits(n, signs) : undefined);
    ctx.font = `${fontPx}px 'WenQuanYi Zen Hei', system-ui, sans-serif`;
    ctx.textBaseline = "middle";
    ctx.textAlign = "start";
    for (const [unit, p] of units) {
      const colour = STATUS_COLOURS[unit.status] || "#888";
      const highlighted = this.highlightUnits.has(unit.id);
      const heading = unit.position.heading;
      ctx.fillStyle = colour;
      ctx.strokeStyle = highlighted ? "#ffffff" : "#0b121b";
      ctx.lineWidth = highlighted ? 2.5 : 1.2;
      ctx.beginPath();
      if (heading === null || heading === undefined) {
        ctx.arc(p.x, p.y, highlighted ? 7 : 5, 0, Math.PI * 2);
      } else {
        // An arrow pointing along the heading (degrees clockwise from north).
        const a = (heading * Math.PI) / 180;
        const s = highlighted ? 1.4 : 1;
        const pt = (dx, dy) => [p.x + s * (dx * Math.cos(a) - dy * Math.sin(a)), p.y + s * (dx * Math.sin(a) + dy * Math.cos(a))];
        const [x0, y0] = pt(0, -9);
        const [x1, y1] = pt(6, 6);
        const [x2, y2] = pt(0, 3);
        const [x3, y3] = pt(-6, 6);
        ctx.moveTo(x0, y0);
        ctx.lineTo(x1, y1);
        ctx.lineTo(x2, y2);
        ctx.lineTo(x3, y3);
        ctx.closePath();
      }
      ctx.fill();
      ctx.stroke();
      if (labelled.has(unit.id)) {
        ctx.fillStyle = highlighted ? "#ffffff" : "#c9d6e3";
        ctx.fillText(unit.callsign, p.x + 9, p.y);
      }
    }

    let drawnIncidents = 0;
    let selected = null;
    ctx.lineWidth = 2;
    for (const incident of this.incidents()) {
      const p = this.map.latLngToContainerPoint([incident.location.lat, incident.location.lon]);
      if (!inView(p)) continue;
      drawnIncidents += 1;
      if (incident.id === this.selectedId) selected = p;
      const r = incident.priority === 1 ? 9 : 7;
      ctx.fillStyle = PRIORITY_COLOURS[incident.priority] || "#ccc";
      ctx.strokeStyle = incident.status === "pending" ? "#ffffff" : "#0b121b";
      ctx.beginPath();
      // A diamond, so incidents never read as units.
      ctx.moveTo(p.x, p.y - r);
      ctx.lineTo(p.x + r, p.y);
      ctx.lineTo(p.x, p.y + r);
      ctx.lineTo(p.x - r, p.y);
      ctx.closePath();
      ctx.fill();
      ctx.stroke();
    }
    if (selected) {
      ctx.strokeStyle = "#4da3ff";
      ctx.lineWidth = 3;
      ctx.beginPath();
      ctx.arc(selected.x, selected.y, 16, 0, Math.PI * 2);
      ctx.stroke();
    }

    if (this.picked) {
      // The place the call taker clicked for the new incident: a crosshair.
      const p = this.map.latLngToContainerPoint([this.picked.lat, this.picked.lon]);
      ctx.strokeStyle = "#ffffff";
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.arc(p.x, p.y, 10, 0, Math.PI * 2);
      ctx.moveTo(p.x - 16, p.y);
      ctx.lineTo(p.x + 16, p.y);
      ctx.moveTo(p.x, p.y - 16);
      ctx.lineTo(p.x, p.y + 16);
      ctx.stroke();
    }

    const ms = performance.now() - started;
    const perf = this.perf;
    perf.draws += 1;
    perf.lastMs = ms;
    perf.totalMs += ms;
    perf.maxMs = Math.max(perf.maxMs, ms);
    perf.drawnUnits = units.length;
    perf.drawnIncidents = drawnIncidents;
  }

  _click(e) {
    if (this.picking) {
      this.picked = { lat: e.latlng.lat, lon: e.latlng.lng };
      this.invalidate();
      this.handlers.onPick(e.latlng.lat, e.latlng.lng);
      return;
    }
    const at = e.containerPoint;
    let best = null;
    let bestDistance = HIT_RADIUS_PX;
    for (const incident of this.incidents()) {
      const p = this.map.latLngToContainerPoint([incident.location.lat, incident.location.lon]);
      const d = at.distanceTo(p);
      if (d <= bestDistance) {
        best = ["incident", incident.id];
        bestDistance = d;
      }
    }
    if (!best) {
      for (const unit of this.units()) {
        if (!unit.position) continue;
        const p = this.map.latLngToContainerPoint([unit.position.lat, unit.position.lon]);
        const d = at.distanceTo(p);
        if (d <= bestDistance) {
          best = ["unit", unit.id];
          bestDistance = d;
        }
      }
    }
    if (best && best[0] === "incident") this.handlers.onSelectIncident(best[1]);
    else if (best) this.handlers.onSelectUnit(best[1]);
  }
}
