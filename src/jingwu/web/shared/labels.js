// The base map's names (GET /api/map/features, layer "label"): street and river names written
// along their course, landmarks, parks, communities and quarters at a point. Both maps use it.
//
// Placement is greedy by importance (the server's `p`: big water and main roads first, then the
// landmarks a dispatcher steers by, then side streets and communities): a label is kept only if
// none of its boxes touches a box already kept, so no two names are ever drawn over each other.
// Candidate spots are fixed in world pixels at each zoom (evenly spaced along a street), so a
// label that stays in view stays put while the map is panned. Boxes live in a grid of cells,
// which keeps each check to the few boxes nearby: thousands of candidates lay out in a few ms.

const CJK = /[\u3400-\u9fff\uf900-\ufaff]/;
const LANDMARKS = new Set(["hospital", "police", "station", "school", "mall", "government", "fire"]);
const CELL_PX = 48;
const EDGE_PX = 2; // labels keep this far inside the map's edge

function overlaps(a, b) {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/** Boxes ({x, y, w, h}, screen pixels) in a grid of cells: "does this box touch any?" cheaply. */
export class BoxGrid {
  constructor() {
    this.cells = new Map();
  }

  _each(box, visit) {
    const x0 = Math.floor(box.x / CELL_PX);
    const x1 = Math.floor((box.x + box.w) / CELL_PX);
    const y0 = Math.floor(box.y / CELL_PX);
    const y1 = Math.floor((box.y + box.h) / CELL_PX);
    for (let cx = x0; cx <= x1; cx += 1) {
      for (let cy = y0; cy <= y1; cy += 1) {
        if (visit(`${cx},${cy}`)) return true;
      }
    }
    return false;
  }

  add(box) {
    this._each(box, (key) => {
      const cell = this.cells.get(key);
      if (cell) cell.push(box);
      else this.cells.set(key, [box]);
      return false;
    });
  }

  hits(box) {
    return this._each(box, (key) => {
      const cell = this.cells.get(key);
      return Boolean(cell && cell.some((other) => overlaps(box, other)));
    });
  }
}

/** A label feature made ready to place: its path or point, bounding box and style key. */
function prepare(feature) {
  const p = feature.properties;
  const g = feature.geometry;
  const coords = g.type === "Point" ? [g.coordinates] : g.coordinates;
  let south = 90;
  let west = 180;
  let north = -90;
  let east = -180;
  for (const [lon, lat] of coords) {
    south = Math.min(south, lat);
    north = Math.max(north, lat);
    west = Math.min(west, lon);
    east = Math.max(east, lon);
  }
  return {
    kind: p.kind,
    cls: p.class || "",
    name: String(p.name),
    chars: [...String(p.name)],
    cjk: CJK.test(p.name),
    z: p.z ?? 0,
    zx: p.zx ?? 99,
    p: p.p ?? 0,
    line: g.type === "LineString" ? coords : null,
    point: g.type === "Point" ? coords[0] : null,
    bbox: { south, west, north, east },
    world: null, // the path in world pixels at `worldZoom`: xs, ys, cumulative length
    worldZoom: null,
  };
}

export class MapLabels {
  /**
   * @param {L.Map} map
   * @param {(label: object, scale: number) => {font: string, px: number, fill: string, halo: string, dot?: string}} styleOf
   */
  constructor(map, styleOf) {
    this.map = map;
    this.styleOf = styleOf;
    this.labels = [];
    this.placed = [];
    this.key = "";
    this.widths = new Map();
    this.perf = { layouts: 0, lastMs: 0, maxMs: 0, totalMs: 0, candidates: 0, placed: 0 };
  }

  /** The FeatureCollection of GET /api/map/features; only its labels are kept. */
  setFeatures(collection) {
    this.labels = (collection && collection.features ? collection.features : [])
      .filter((f) => f.properties && f.properties.layer === "label" && f.properties.name)
      .map(prepare)
      .sort((a, b) => b.p - a.p);
    this.key = "";
  }

  /**
   * The labels to draw in the current view, placed apart from each other and from the boxes that
   * `obstacles()` returns (screen boxes of what must stay readable, e.g. station names). Laid out
   * again only when the view changed; `scale` enlarges the text (the wall screen).
   */
  layout(ctx, scale = 1, obstacles = () => []) {
    const map = this.map;
    const zoom = map.getZoom();
    const origin = map.getPixelBounds().min;
    const size = map.getSize();
    const key = `${zoom}|${Math.round(origin.x)}|${Math.round(origin.y)}|${size.x}|${size.y}|${scale}`;
    if (key === this.key) return this.placed;
    const started = performance.now();
    this.key = key;
    const view = map.getBounds();
    const grid = new BoxGrid();
    for (const box of obstacles()) grid.add(box);
    const frame = { zoom, ox: origin.x, oy: origin.y, w: size.x, h: size.y, grid, byName: new Map() };
    const placed = [];
    let candidates = 0;
    for (const label of this.labels) {
      if (zoom < label.z || zoom > label.zx) continue;
      const b = label.bbox;
      if (b.north < view.getSouth() || b.south > view.getNorth() || b.east < view.getWest() || b.west > view.getEast()) {
        continue;
      }
      candidates += 1;
      const style = this.styleOf(label, scale);
      ctx.font = style.font;
      if (label.line) this._placeLine(ctx, label, style, frame, placed);
      else this._placePoint(ctx, label, style, frame, placed);
    }
    this.placed = placed;
    const ms = performance.now() - started;
    const perf = this.perf;
    perf.layouts += 1;
    perf.lastMs = ms;
    perf.totalMs += ms;
    perf.maxMs = Math.max(perf.maxMs, ms);
    perf.candidates = candidates;
    perf.placed = placed.length;
    return placed;
  }

  /** Draw `labels` (from `layout`); `hidden(label)` leaves some out (under a call sign). */
  draw(ctx, labels, hidden = () => false) {
    const drawn = [];
    ctx.save();
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.lineJoin = "round";
    for (const label of labels) {
      if (hidden(label)) continue;
      drawn.push(label);
      const s = label.style;
      ctx.font = s.font;
      ctx.lineWidth = Math.max(2.5, s.px / 4);
      ctx.strokeStyle = s.halo;
      ctx.fillStyle = s.fill;
      if (label.dot) {
        const d = label.dot;
        ctx.fillStyle = s.dot;
        ctx.fillRect(d.x, d.y, d.w, d.h);
        ctx.strokeRect(d.x, d.y, d.w, d.h);
        ctx.fillStyle = s.fill;
      }
      for (const glyph of label.glyphs) {
        if (glyph.a) {
          ctx.save();
          ctx.translate(glyph.x, glyph.y);
          ctx.rotate(glyph.a);
          ctx.strokeText(glyph.ch, 0, 0);
          ctx.fillText(glyph.ch, 0, 0);
          ctx.restore();
        } else {
          ctx.strokeText(glyph.ch, glyph.x, glyph.y);
          ctx.fillText(glyph.ch, glyph.x, glyph.y);
        }
      }
    }
    ctx.restore();
    return drawn;
  }

  _width(ctx, font, text) {
    const key = `${font}|${text}`;
    let w = this.widths.get(key);
    if (w === undefined) {
      w = ctx.measureText(text).width;
      this.widths.set(key, w);
    }
    return w;
  }

  _inside(box, frame) {
    return box.x >= EDGE_PX && box.y >= EDGE_PX && box.x + box.w <= frame.w - EDGE_PX && box.y + box.h <= frame.h - EDGE_PX;
  }

  _fits(boxes, frame) {
    return boxes.every((box) => this._inside(box, frame) && !frame.grid.hits(box));
  }

  _keep(label, style, glyphs, boxes, frame, placed, centre, dot = null) {
    for (const box of boxes) frame.grid.add(box);
    const entry = { kind: label.kind, name: label.name, style, glyphs, boxes, dot, x: centre.x, y: centre.y };
    placed.push(entry);
    const same = frame.byName.get(label.name);
    if (same) same.push(entry);
    else frame.byName.set(label.name, [entry]);
  }

  /** A street's or a river's name along its course, repeated every few label lengths. */
  _placeLine(ctx, label, style, frame, placed) {
    const world = this._world(label, frame.zoom);
    const length = world.cum[world.cum.length - 1];
    const widths = label.chars.map((ch) => this._width(ctx, style.font, ch));
    const gap = label.cjk ? Math.round(style.px * 0.15) : 0;
    const total = widths.reduce((a, b) => a + b, 0) + gap * (widths.length - 1);
    if (length < total + style.px) return;
    // The same name again no nearer than this: a dual carriageway shows its name once.
    const apart = Math.max(total * 2.5, 12 * style.px);
    const spacing = Math.max(total * 3, 24 * style.px);
    const count = Math.max(1, Math.floor(length / spacing));
    for (let k = 0; k < count; k += 1) {
      const start = (length * (k + 0.5)) / count - total / 2;
      const a = this._at(world, start);
      const b = this._at(world, start + total);
      // Too winding to read: the ends must be nearly as far apart as the text is long.
      if (Math.hypot(b.x - a.x, b.y - a.y) < total * 0.9) continue;
      const dx = b.x - a.x;
      const dy = b.y - a.y;
      // Chinese reads left to right, or top to bottom on a steep street; Latin is never upside down.
      const reverse = label.cjk ? (Math.abs(dx) >= Math.abs(dy) * 0.5 ? dx < 0 : dy < 0) : dx < 0;
      const glyphs = [];
      const boxes = [];
      let offset = 0;
      for (let i = 0; i < label.chars.length; i += 1) {
        const along = offset + widths[i] / 2;
        offset += widths[i] + gap;
        const p = this._at(world, reverse ? start + total - along : start + along);
        const x = p.x - frame.ox;
        const y = p.y - frame.oy;
        if (label.cjk) {
          glyphs.push({ ch: label.chars[i], x, y, a: 0 });
          const half = Math.max(widths[i], style.px) / 2 + 1;
          boxes.push({ x: x - half, y: y - half, w: 2 * half, h: 2 * half });
        } else {
          const angle = p.angle + (reverse ? Math.PI : 0);
          glyphs.push({ ch: label.chars[i], x, y, a: angle });
          const c = Math.abs(Math.cos(angle));
          const s = Math.abs(Math.sin(angle));
          const w = widths[i] * c + style.px * s + 2;
          const h = widths[i] * s + style.px * c + 2;
          boxes.push({ x: x - w / 2, y: y - h / 2, w, h });
        }
      }
      const centre = { x: (a.x + b.x) / 2 - frame.ox, y: (a.y + b.y) / 2 - frame.oy };
      const same = frame.byName.get(label.name) || [];
      if (same.some((o) => Math.hypot(o.x - centre.x, o.y - centre.y) < apart)) continue;
      if (!this._fits(boxes, frame)) continue;
      this._keep(label, style, glyphs, boxes, frame, placed, centre);
    }
  }

  /** A place's name on its point; a landmark's beside a small square, on whichever side is free. */
  _placePoint(ctx, label, style, frame, placed) {
    const p = this.map.project([label.point[1], label.point[0]], frame.zoom);
    const x = p.x - frame.ox;
    const y = p.y - frame.oy;
    const w = this._width(ctx, style.font, label.name) + 4;
    const h = style.px + 4;
    if (!LANDMARKS.has(label.kind)) {
      const box = { x: x - w / 2, y: y - h / 2, w, h };
      if (this._fits([box], frame)) {
        this._keep(label, style, [{ ch: label.name, x, y, a: 0 }], [box], frame, placed, { x, y });
      }
      return;
    }
    const d = Math.max(6, Math.round(style.px * 0.55));
    const dot = { x: x - d / 2, y: y - d / 2, w: d, h: d };
    const sides = [
      [x + d / 2 + 2 + w / 2, y],
      [x - d / 2 - 2 - w / 2, y],
      [x, y + d / 2 + 1 + h / 2],
      [x, y - d / 2 - 1 - h / 2],
    ];
    for (const [cx, cy] of sides) {
      const box = { x: cx - w / 2, y: cy - h / 2, w, h };
      const dotBox = { x: dot.x - 1, y: dot.y - 1, w: d + 2, h: d + 2 };
      if (!this._fits([dotBox, box], frame)) continue;
      this._keep(label, style, [{ ch: label.name, x: cx, y: cy, a: 0 }], [dotBox, box], frame, placed, { x, y }, dot);
      return;
    }
  }

  /** The label's path in world pixels at `zoom` (kept until the zoom changes). */
  _world(label, zoom) {
    if (label.worldZoom === zoom) return label.world;
    const n = label.line.length;
    const xs = new Float64Array(n);
    const ys = new Float64Array(n);
    const cum = new Float64Array(n);
    for (let i = 0; i < n; i += 1) {
      const [lon, lat] = label.line[i];
      const p = this.map.project([lat, lon], zoom);
      xs[i] = p.x;
      ys[i] = p.y;
      if (i) cum[i] = cum[i - 1] + Math.hypot(xs[i] - xs[i - 1], ys[i] - ys[i - 1]);
    }
    label.world = { xs, ys, cum };
    label.worldZoom = zoom;
    return label.world;
  }

  /** The point `distance` pixels along a path, and the path's direction there. */
  _at(world, distance) {
    const { xs, ys, cum } = world;
    let lo = 0;
    let hi = cum.length - 1;
    const d = Math.min(Math.max(distance, 0), cum[hi]);
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (cum[mid] <= d) lo = mid;
      else hi = mid;
    }
    const span = cum[hi] - cum[lo] || 1;
    const t = (d - cum[lo]) / span;
    return {
      x: xs[lo] + (xs[hi] - xs[lo]) * t,
      y: ys[lo] + (ys[hi] - ys[lo]) * t,
      angle: Math.atan2(ys[hi] - ys[lo], xs[hi] - xs[lo]),
    };
  }
}

/** Does any of a label's boxes touch a box in `grid`? */
export function labelHits(label, grid) {
  return label.boxes.some((box) => grid.hits(box));
}
