// The analytics map: the city's roads, water and parks from our own OpenStreetMap extract (or the
// operator's tile server), with two layers over them: the period's incidents counted in square
// cells (GET /api/analytics/heat), coloured by count with a legend, and the forecast hotspots
// (GET /api/analytics/hotspots) as outlined cells. Rectangles go to one canvas: a year's heat map
// holds thousands of cells, too many for a DOM node each.

import * as L from "/static/vendor/leaflet/leaflet-src.esm.js";

const OSM_ATTRIBUTION = "© OpenStreetMap contributors";
const ROAD_STYLE = {
  motorway: { color: "#6b7f99", weight: 3 },
  trunk: { color: "#62768f", weight: 2.6 },
  primary: { color: "#54687f", weight: 2.2 },
  secondary: { color: "#475a70", weight: 1.6 },
  tertiary: { color: "#3b4d62", weight: 1.2 },
  minor: { color: "#2e3e52", weight: 0.8 },
};
const AREA_COLOURS = { water: "#16395c", park: "#143024", wood: "#122a20", grass: "#15291f" };
// A sequential ramp (ColorBrewer YlOrRd, 5 classes): darker red is busier, readable on the dark map.
export const HEAT_RAMP = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"];
export const HOTSPOT_COLOUR = "#00e5ff";

/** Class limits for counts 1…max: one class per count while they fit, else equal steps. Each
 * class is [from, to] (inclusive) with its colour. */
export function heatClasses(max) {
  if (max <= 0) return [];
  const n = Math.min(HEAT_RAMP.length, max);
  const classes = [];
  let from = 1;
  for (let i = 0; i < n; i += 1) {
    const to = i === n - 1 ? max : Math.max(from, Math.round((max * (i + 1)) / n));
    classes.push({ from, to, colour: HEAT_RAMP[Math.round((i * (HEAT_RAMP.length - 1)) / Math.max(1, n - 1))] });
    from = to + 1;
  }
  return classes;
}

export class AnalyticsMap {
  constructor(element) {
    this.element = element;
    this.cityBounds = null;
    this.heatCells = 0;
    this.hotspotCells = 0;
    this.map = L.map(element, {
      preferCanvas: true,
      zoomControl: true,
      attributionControl: true,
      zoomAnimation: false,
      fadeAnimation: false,
    });
    this.map.attributionControl.setPrefix(false);
    this.map.attributionControl.addAttribution(OSM_ATTRIBUTION);
    // Panes fix the order whatever loads first: water and parks, then the roads (overlay pane,
    // 400), then the heat and the hotspots' outlines on their own canvas above them.
    this.map.createPane("areas").style.zIndex = 350;
    this.map.createPane("analysis").style.zIndex = 450;
    this.renderer = L.canvas({ pane: "analysis", padding: 0.2 });
    this.heat = L.layerGroup().addTo(this.map);
    this.hotspots = L.layerGroup().addTo(this.map);
  }

  /** The base map; `config` is GET /api/map/config. */
  async load(api) {
    const config = await api.get("/api/map/config");
    this.cityBounds = L.latLngBounds(config.bounds);
    this.map.fitBounds(this.cityBounds, { padding: [10, 10] });
    if (config.attribution && config.attribution !== OSM_ATTRIBUTION) {
      this.map.attributionControl.removeAttribution(OSM_ATTRIBUTION);
      this.map.attributionControl.addAttribution(config.attribution);
    }
    if (config.tile_url) {
      L.tileLayer(config.tile_url, { attribution: config.tile_attribution || "", maxZoom: 19 }).addTo(this.map);
    } else {
      // Water and parks draw when they arrive and the roads need not wait for them; a map
      // without them (the request failed) still has its roads.
      const areas = api.get("/api/map/features").then((features) => this._drawAreas(features), () => {});
      const roads = await api.get("/api/map/roads");
      L.geoJSON(roads, {
        renderer: L.canvas({ padding: 0.3 }),
        interactive: false,
        style: (f) => ({ ...(ROAD_STYLE[f.properties.class] || ROAD_STYLE.minor), opacity: 1 }),
      }).addTo(this.map);
      await areas;
    }
    this.element.dataset.base = "drawn"; // for the browser tests' screenshots
  }

  _drawAreas(features) {
    const areas = features.features.filter((f) => f.properties.layer !== "label");
    L.geoJSON({ type: "FeatureCollection", features: areas }, {
      renderer: L.canvas({ pane: "areas", padding: 0.3 }),
      pane: "areas",
      interactive: false,
      style: (f) => {
        const p = f.properties;
        const colour = p.layer === "water" || p.layer === "waterway" ? AREA_COLOURS.water : AREA_COLOURS[p.kind] || AREA_COLOURS.park;
        if (p.layer === "waterway") return { color: colour, weight: 2, opacity: 1, fill: false };
        return { color: colour, fillColor: colour, weight: 0.5, opacity: 1, fillOpacity: 1 };
      },
    }).addTo(this.map);
  }

  /** The heat cells ([south, west, north, east, count] each); `fit` moves the view onto them
   * (another dataset may lie far from the city). Returns the colour classes for the legend. */
  showHeat(data, { fit = false } = {}) {
    this.heat.clearLayers();
    const classes = heatClasses(data ? data.max : 0);
    const colourOf = (count) => (classes.find((c) => count <= c.to) || classes[classes.length - 1]).colour;
    const cells = data ? data.cells : [];
    for (const [south, west, north, east, count] of cells) {
      L.rectangle(
        [
          [south, west],
          [north, east],
        ],
        { renderer: this.renderer, pane: "analysis", stroke: false, fillColor: colourOf(count), fillOpacity: 0.62, interactive: false },
      ).addTo(this.heat);
    }
    this.heatCells = cells.length;
    this.element.dataset.heatCells = String(cells.length);
    if (fit) this.fit(cells);
    return classes;
  }

  /** The forecast's hotspot cells (GeoJSON polygons), outlined over the heat. */
  showHotspots(geojson) {
    this.hotspots.clearLayers();
    const features = geojson ? geojson.features : [];
    L.geoJSON(
      { type: "FeatureCollection", features },
      {
        renderer: this.renderer,
        pane: "analysis",
        interactive: false,
        style: () => ({ color: HOTSPOT_COLOUR, weight: 1.4, opacity: 0.95, fill: false }),
      },
    ).addTo(this.hotspots);
    this.hotspotCells = features.length;
    this.element.dataset.hotspotCells = String(features.length);
  }

  setVisible(layer, shown) {
    const group = layer === "heat" ? this.heat : this.hotspots;
    if (shown && !this.map.hasLayer(group)) group.addTo(this.map);
    if (!shown && this.map.hasLayer(group)) group.remove();
  }

  fit(cells) {
    if (!cells.length) {
      if (this.cityBounds) this.map.fitBounds(this.cityBounds, { padding: [10, 10] });
      return;
    }
    let bounds = L.latLngBounds([cells[0][0], cells[0][1]], [cells[0][2], cells[0][3]]);
    for (const [s, w, n, e] of cells) bounds = bounds.extend([s, w]).extend([n, e]);
    this.map.fitBounds(bounds, { padding: [16, 16], maxZoom: 15 });
  }

  invalidate() {
    this.map.invalidateSize();
  }
}
