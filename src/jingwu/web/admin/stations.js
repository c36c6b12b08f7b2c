// Stations: the list, every jurisdiction on a map of the city's roads, and the form that makes or
// edits one. A jurisdiction is drawn corner by corner on the map or imported from a GeoJSON file;
// the server checks it (a valid polygon, no overlap with another station) before anything is kept.

import * as L from "/static/vendor/leaflet/leaflet-src.esm.js";
import { actionCell, button, cell, submitting } from "./ui.js";

const $ = (id) => document.getElementById(id);

/** GeoJSON (Multi)Polygon → Leaflet's nested [lat, lon] rings. */
function latLngs(geometry) {
  const flip = (ring) => ring.map(([lon, lat]) => [lat, lon]);
  if (geometry.type === "Polygon") return geometry.coordinates.map(flip);
  return geometry.coordinates.map((polygon) => polygon.map(flip));
}

/** The geometry inside what a file holds: a geometry, a Feature, or a collection of one feature. */
export function geometryOf(document) {
  if (!document || typeof document !== "object") return null;
  if (document.type === "FeatureCollection") {
    const polygons = (document.features || []).map((f) => geometryOf(f)).filter(Boolean);
    if (polygons.length === 1) return polygons[0];
    // Several features: one MultiPolygon of them all.
    const parts = polygons.flatMap((g) => (g.type === "Polygon" ? [g.coordinates] : g.coordinates));
    return parts.length ? { type: "MultiPolygon", coordinates: parts } : null;
  }
  if (document.type === "Feature") return geometryOf(document.geometry);
  return ["Polygon", "MultiPolygon"].includes(document.type) ? document : null;
}

export class StationsTab {
  constructor(admin) {
    this.admin = admin;
    this.editing = null; // the station being edited (null: a new one)
    this.shape = null; // the jurisdiction being made: a GeoJSON geometry
    this.drawing = null; // [lat, lon] corners while drawing
    this.map = null;
    this.layers = null;
    this.draft = null;
    const form = $("station-form");
    $("station-new").addEventListener("click", () => this.open(null));
    form.querySelector("[data-cancel]").addEventListener("click", () => this.close());
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.save();
    });
    $("draw-start").addEventListener("click", () => this.startDrawing());
    $("draw-finish").addEventListener("click", () => this.finishDrawing());
    $("geojson-file").addEventListener("change", (e) => this.importFile(e.target.files[0]));
  }

  async ensureMap() {
    if (this.map) return;
    this.map = L.map("station-map", { preferCanvas: true, zoomControl: true, attributionControl: true });
    const config = await this.admin.api.get("/api/map/config");
    this.map.fitBounds(L.latLngBounds(config.bounds));
    this.map.attributionControl.addAttribution(config.attribution || "© OpenStreetMap contributors");
    const roads = await this.admin.api.get("/api/map/roads");
    L.geoJSON(roads, {
      renderer: L.canvas({ padding: 0.3 }),
      interactive: false,
      style: () => ({ color: "#3b4d62", weight: 1, opacity: 1 }),
    }).addTo(this.map);
    this.layers = L.layerGroup().addTo(this.map);
    this.draft = L.layerGroup().addTo(this.map);
    this.map.on("click", (e) => this.addCorner(e.latlng));
  }

  async refresh() {
    await this.ensureMap();
    await this.admin.loadStations();
    this.render();
    this.map.invalidateSize();
  }

  render() {
    const rows = this.admin.stations.map((station) => {
      const tr = document.createElement("tr");
      tr.dataset.stationId = station.id;
      tr.append(
        cell(station.name),
        cell(station.district),
        actionCell(
          button(this.admin.i18n.t("btn.edit"), () => this.open(station)),
          button(this.admin.i18n.t("btn.retire"), () => this.retire(station), "danger"),
        ),
      );
      tr.addEventListener("mouseenter", () => this.highlight(station.id));
      return tr;
    });
    $("station-rows").replaceChildren(...rows);
    if (!this.layers) return;
    this.layers.clearLayers();
    for (const station of this.admin.stations) {
      const polygon = L.polygon(latLngs(station.jurisdiction), {
        color: "#3d8bfd",
        weight: 1.5,
        fillOpacity: 0.06,
        interactive: false,
      });
      const label = document.createElement("span");
      label.textContent = station.name;
      polygon.bindTooltip(label, { permanent: true, direction: "center", className: "station-label" });
      polygon.stationId = station.id;
      this.layers.addLayer(polygon);
    }
    this.showShape();
  }

  highlight(stationId) {
    this.layers.eachLayer((layer) => layer.setStyle({ weight: layer.stationId === stationId ? 3 : 1.5 }));
  }

  open(station) {
    const form = $("station-form");
    this.editing = station;
    this.shape = station ? station.jurisdiction : null;
    form.reset();
    for (const node of form.querySelectorAll("[data-new-only]")) node.hidden = Boolean(station);
    const t = this.admin.i18n;
    $("station-form-title").textContent = station ? t.t("form.edit_station", { name: station.name }) : t.t("form.new_station");
    if (station) {
      form.elements.name.value = station.name;
      form.elements.district.value = station.district;
      form.elements.address.value = station.address || "";
    }
    form.hidden = false;
    form.querySelector(".error").hidden = true;
    this.stopDrawing();
    this.showShape();
    if (station) this.map.fitBounds(L.polygon(latLngs(station.jurisdiction)).getBounds(), { padding: [20, 20] });
  }

  close() {
    $("station-form").hidden = true;
    this.editing = null;
    this.shape = null;
    this.stopDrawing();
    this.showShape();
  }

  startDrawing() {
    this.drawing = [];
    $("draw-start").hidden = true;
    $("draw-finish").hidden = false;
    this.map.getContainer().classList.add("drawing");
    this.showShape();
  }

  addCorner(latlng) {
    if (!this.drawing) return;
    this.drawing.push([latlng.lat, latlng.lng]);
    this.showShape();
  }

  finishDrawing() {
    const corners = this.drawing || [];
    if (corners.length >= 3) {
      const ring = corners.map(([lat, lon]) => [Number(lon.toFixed(6)), Number(lat.toFixed(6))]);
      ring.push(ring[0]);
      this.shape = { type: "Polygon", coordinates: [ring] };
    }
    this.stopDrawing();
    this.showShape();
  }

  stopDrawing() {
    this.drawing = null;
    $("draw-start").hidden = false;
    $("draw-finish").hidden = true;
    if (this.map) this.map.getContainer().classList.remove("drawing");
  }

  async importFile(file) {
    if (!file) return;
    const error = $("station-form").querySelector(".error");
    error.hidden = true;
    try {
      const geometry = geometryOf(JSON.parse(await file.text()));
      if (!geometry) throw new Error("no polygon");
      this.shape = geometry;
      this.showShape();
      this.map.fitBounds(L.polygon(latLngs(geometry)).getBounds(), { padding: [20, 20] });
    } catch {
      error.textContent = this.admin.i18n.t("error.bad_geojson");
      error.hidden = false;
    }
    $("geojson-file").value = "";
  }

  /** The jurisdiction being made, on the map and in words. */
  showShape() {
    if (!this.draft) return;
    this.draft.clearLayers();
    const t = this.admin.i18n;
    if (this.drawing) {
      if (this.drawing.length) {
        L.polyline(this.drawing, { color: "#ffb020", weight: 2, dashArray: "4 4" }).addTo(this.draft);
        for (const corner of this.drawing) L.circleMarker(corner, { radius: 4, color: "#ffb020" }).addTo(this.draft);
      }
      $("station-shape").textContent = t.t("shape.drawn", { n: this.drawing.length });
      return;
    }
    if (!this.shape) {
      $("station-shape").textContent = t.t("shape.none");
      return;
    }
    L.polygon(latLngs(this.shape), { color: "#ffb020", weight: 2, fillOpacity: 0.15 }).addTo(this.draft);
    const polygons = this.shape.type === "Polygon" ? [this.shape.coordinates] : this.shape.coordinates;
    const corners = polygons.reduce((n, rings) => n + rings.reduce((m, r) => m + r.length - 1, 0), 0);
    $("station-shape").textContent = t.t("shape.polygons", { n: polygons.length, v: corners });
  }

  async save() {
    const form = $("station-form");
    if (this.drawing) this.finishDrawing();
    const values = {
      name: form.elements.name.value.trim(),
      district: form.elements.district.value.trim(),
      address: form.elements.address.value.trim() || null,
    };
    const ok = await submitting(form, this.admin, async () => {
      if (!this.shape) throw new Error(this.admin.i18n.t("error.no_shape"));
      if (this.editing) {
        const changes = { ...values, version: this.editing.version };
        if (this.shape !== this.editing.jurisdiction) changes.jurisdiction = this.shape;
        await this.admin.api.request("PATCH", `/api/admin/stations/${encodeURIComponent(this.editing.id)}`, {
          body: changes,
        });
      } else {
        const id = form.elements.id.value.trim();
        await this.admin.api.post("/api/admin/stations", { ...values, jurisdiction: this.shape, ...(id ? { id } : {}) });
      }
    });
    if (ok) {
      this.close();
      await this.refresh();
    }
  }

  async retire(station) {
    if (!confirm(this.admin.i18n.t("confirm.retire", { name: station.name }))) return;
    try {
      await this.admin.api.post(`/api/admin/stations/${encodeURIComponent(station.id)}/retire`);
      await this.refresh();
    } catch (exc) {
      this.admin.notice(this.admin.errorText(exc));
    }
  }
}
