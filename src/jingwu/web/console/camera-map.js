// The selected incident's cameras on the situation map: a dot per fixed camera (coloured by its
// state) and its view cone (heading ± fov/2 out to its range), bright for those that see the
// scene, dashed grey for those in range that face away or are blocked. Body cameras and drones
// ride their units, already drawn on the map. A click on a camera opens its live tile.
// Optionally the coverage of the streets (covered / uncovered stretches) and the blind spots.

import * as L from "/static/vendor/leaflet/leaflet-src.esm.js";
import { FAULT_STATES } from "./camera-strings.js";

const M_PER_DEG = 111_320;
const CONE_STEP_DEG = 5;
const COLOURS = { online: "#19c3b1", unknown: "#8a9bb0", fault: "#ff4d4f" };

/** The cone's outline as [lat, lon] points: the camera, then the arc from left to right. */
export function viewCone(lat, lon, view) {
  const points = [[lat, lon]];
  const fov = Math.min(Math.max(view.fov_deg, 1), 360);
  const steps = Math.max(2, Math.ceil(fov / CONE_STEP_DEG));
  const cosLat = Math.cos((lat * Math.PI) / 180) || 1e-9;
  for (let i = 0; i <= steps; i += 1) {
    const bearing = ((view.heading_deg - fov / 2 + (fov * i) / steps) * Math.PI) / 180;
    const north = view.range_m * Math.cos(bearing);
    const east = view.range_m * Math.sin(bearing);
    points.push([lat + north / M_PER_DEG, lon + east / (M_PER_DEG * cosLat)]);
  }
  return points;
}

export function stateColour(state) {
  if (state === "online") return COLOURS.online;
  return FAULT_STATES.has(state) ? COLOURS.fault : COLOURS.unknown;
}

export class CameraLayer {
  /** @param map the console's SituationMap; `onOpen(cameraId)` when a camera is clicked */
  constructor(map, onOpen) {
    this.leaflet = map.map;
    this.onOpen = onOpen;
    this.leaflet.createPane("cameras").style.zIndex = 460; // over the units' canvas (450)
    this.renderer = L.svg({ pane: "cameras" });
    this.cones = L.layerGroup().addTo(this.leaflet);
    this.dots = L.layerGroup().addTo(this.leaflet);
    this.coverage = L.layerGroup().addTo(this.leaflet);
    this.entries = [];
  }

  /** Draw the incident's ranked cameras (GET /api/incidents/{id}/cameras entries); [] clears. */
  show(entries) {
    this.entries = entries;
    this.cones.clearLayers();
    this.dots.clearLayers();
    for (const entry of entries) {
      const camera = entry.camera;
      if (camera.lat == null || camera.lon == null) continue;
      const colour = stateColour(camera.state);
      if (camera.view) {
        L.polygon(viewCone(camera.lat, camera.lon, camera.view), {
          pane: "cameras",
          renderer: this.renderer,
          interactive: false,
          color: entry.sees ? "#4da3ff" : "#8a9bb0",
          weight: entry.sees ? 1.5 : 1,
          dashArray: entry.sees ? null : "4 4",
          fillColor: entry.sees ? "#4da3ff" : "#8a9bb0",
          fillOpacity: entry.sees ? 0.18 : 0.06,
          className: "camera-cone",
        }).addTo(this.cones);
      }
      const dot = L.circleMarker([camera.lat, camera.lon], {
        pane: "cameras",
        renderer: this.renderer,
        radius: 6,
        color: "#0b121b",
        weight: 2,
        fillColor: colour,
        fillOpacity: 1,
        bubblingMouseEvents: false, // a click on a camera is not a click on the map
        className: "camera-dot",
      });
      const label = document.createElement("span");
      label.textContent = `${entry.rank ?? ""} ${camera.name}`.trim(); // a text node: names stay inert
      dot.bindTooltip(label, { direction: "top", offset: [0, -6], className: "camera-label" });
      dot.on("click", () => this.onOpen(camera.id));
      dot.addTo(this.dots);
    }
  }

  /** A camera's state changed: recolour its dot without redrawing the rest. */
  update(camera) {
    const entry = this.entries.find((e) => e.camera.id === camera.id);
    if (!entry) return;
    entry.camera = { ...entry.camera, ...camera };
    this.show(this.entries);
  }

  /** Covered (green) and uncovered (red) street stretches, the blind spots (ranked by the
   * incidents near them) and the suggested new cameras; null clears. */
  showCoverage(collection, blind = null, words = {}) {
    this.coverage.clearLayers();
    if (!collection) return;
    const options = { pane: "cameras", renderer: this.renderer };
    L.geoJSON(collection, {
      ...options,
      interactive: false,
      style: (f) => (f.properties && f.properties.covered
        ? { color: "#2ecc71", weight: 3, opacity: 0.75, className: "coverage-covered" }
        : { color: "#ff4d4f", weight: 3, opacity: 0.75, dashArray: "5 4", className: "coverage-uncovered" }),
      pointToLayer: (f, latlng) => L.circleMarker(latlng, { ...options, radius: 3 }),
    }).addTo(this.coverage);
    const tip = (layer, text) => {
      const node = document.createElement("span");
      node.textContent = text; // a text node: labels stay inert
      layer.bindTooltip(node, { direction: "top", className: "camera-label" });
    };
    for (const spot of (blind && blind.blind_spots) || []) {
      const mark = L.circleMarker([spot.lat, spot.lon], {
        ...options, radius: 10, color: "#ffb020", weight: 2, fillOpacity: 0.2, bubblingMouseEvents: false, className: "blind-spot",
      });
      tip(mark, words.spot ? words.spot(spot) : `#${spot.rank} ${spot.label || ""}`);
      mark.addTo(this.coverage);
    }
    for (const place of (blind && blind.suggestions) || []) {
      L.polygon(viewCone(place.lat, place.lon, { heading_deg: place.heading_deg ?? 0, fov_deg: 90, range_m: 40 }), {
        ...options, interactive: false, color: "#ffd84d", weight: 1.5, dashArray: "3 3", fillOpacity: 0.1, className: "suggested-camera",
      }).addTo(this.coverage);
      const dot = L.circleMarker([place.lat, place.lon], {
        ...options, radius: 5, color: "#ffd84d", weight: 2, fillColor: "#0b121b", fillOpacity: 1, bubblingMouseEvents: false,
      });
      tip(dot, words.suggestion ? words.suggestion(place) : "+");
      dot.addTo(this.coverage);
    }
  }
}

/** A map button under the zoom control that switches the coverage view on and off. */
export function coverageButton(leaflet, onClick) {
  const Control = L.Control.extend({
    options: { position: "topleft" },
    onAdd() {
      const bar = L.DomUtil.create("div", "leaflet-bar camera-coverage-control");
      const link = L.DomUtil.create("a", "", bar);
      link.href = "#";
      link.id = "camera-coverage-toggle";
      link.setAttribute("role", "button");
      L.DomEvent.disableClickPropagation(bar);
      L.DomEvent.on(link, "click", (e) => {
        L.DomEvent.preventDefault(e);
        onClick();
      });
      return bar;
    },
  });
  const control = new Control();
  control.addTo(leaflet);
  return control.getContainer().querySelector("a");
}
