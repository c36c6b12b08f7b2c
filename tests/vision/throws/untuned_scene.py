"""An independent test clip for the thrown-object detector, written without reading the detector.

A 1280×720, 30 fps H.264 clip (libx264, crf 29) from a camera at the foot of a 26-floor residential
tower, 23 m in front of it, yawed right, rolled a little and tilted 42° up; a wide lens (f = 575 px).
Everything is drawn from first principles: the facade is painted in wall coordinates (metres, 32 px/m)
and warped into the picture by the homography of the wall plane, K·[r1 r3 t]; the balconies (1 m deep,
on every unit above the ground floor) are boxes projected face by face; the sky is a gradient in
elevation with the sun's glare and lens ghosts; a wind-swayed, out-of-focus branch hangs in at the
left edge; two pigeons cross (one gliding down); the exposure drifts; the lens vignettes; the sensor
adds noise; the encoder adds blocks.

Two throws, both physically simulated (gravity 9.81 m/s², quadratic drag against the air, a 1 m/s
breeze along the wall), from the front of a balcony:

* a knotted black rubbish bag, 0.40 × 0.30 m, tumbling and flapping, from floor 19, column 4;
* a dark green glass bottle, 0.32 × 0.085 m, tumbling end over end, from floor 8, column 2.

`render_untuned` writes ``untuned.mp4``, ``untuned.calibration.json`` (the wall's corners projected
through the same camera) and ``untuned.truth.json``, and returns the truth:
``{"fps", "frames", "throws": [{"floor", "column", "launch_frame", "landing_frame", "track"}]}``,
``track`` being ``[frame, u, v]`` of the object's centre in each frame it is in the picture.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from tests.vision.throws.untuned_world import (
    AIR,
    BALCONY_D,
    COLUMN_X,
    EXPOSURE_S,
    FLOOR_H,
    FLOORS,
    FOCAL,
    FPS,
    FRAMES,
    GRAVITY,
    HEIGHT,
    RAIL_H,
    THROWS,
    TOP,
    WALL_W,
    WIDTH,
    WIND,
    Camera,
    Throw,
    glare_and_ghosts,
    static_scene,
    vignette,
)

# ------------------------------------------------------------------------------------------ motion


@dataclass
class Flight:
    throw: Throw
    t: np.ndarray
    pos: np.ndarray  # N×3
    t_land: float

    def at(self, t: float) -> np.ndarray:
        return np.array([np.interp(t, self.t, self.pos[:, k]) for k in range(3)])


def _simulate(th: Throw) -> Flight:
    z0 = (th.floor - 1) * FLOOR_H + RAIL_H + 0.08
    x0 = COLUMN_X[th.column - 1] + (0.35 if th.kind == "bag" else -0.4)
    p = np.array([x0, -BALCONY_D - 0.12, z0])
    v = np.array(th.v0, dtype=float)
    k = 0.5 * AIR * th.cd_area_m2 / th.mass_kg
    dt = 1 / 1500
    ts, ps = [th.t_launch], [p.copy()]
    t = th.t_launch
    while p[2] > 0:
        rel = v - WIND

        def acc(rel: np.ndarray) -> np.ndarray:
            return np.array([0, 0, -GRAVITY]) - k * np.linalg.norm(rel) * rel

        # midpoint (RK2)
        a1 = acc(rel)
        a2 = acc(rel + 0.5 * dt * a1)
        p = p + dt * (v + 0.5 * dt * a1)
        v = v + dt * a2
        t += dt
        ts.append(t)
        ps.append(p.copy())
    pos = np.array(ps)
    # the exact landing instant by interpolation
    za, zb = pos[-2, 2], pos[-1, 2]
    t_land = ts[-2] + dt * za / (za - zb)
    return Flight(th, np.array(ts), pos, t_land)


def _object_polygon(th: Throw, t: float, rng_phase: float) -> np.ndarray:
    """Outline in metres in the object's own (image-aligned) plane at time t (K×2)."""
    age = t - th.t_launch
    phi = rng_phase + 2 * math.pi * th.spin_hz * age
    if th.kind == "bottle":
        # end-over-end tumbling: the apparent length shrinks when the bottle points at the camera
        out_of_plane = 0.55 + 0.45 * abs(math.cos(2 * math.pi * 0.7 * age + 0.3))
        half_l, half_w = th.length_m / 2 * out_of_plane, th.width_m / 2
        # body + neck
        body = [
            (-half_l, -half_w),
            (half_l * 0.35, -half_w),
            (half_l * 0.65, -half_w * 0.45),
            (half_l, -half_w * 0.4),
            (half_l, half_w * 0.4),
            (half_l * 0.65, half_w * 0.45),
            (half_l * 0.35, half_w),
            (-half_l, half_w),
        ]
        pts = np.array(body)
    else:
        # a knotted bag: a lumpy blob whose outline breathes as the loose top flaps
        n = 14
        ang = np.linspace(0, 2 * math.pi, n, endpoint=False)
        flap = 0.12 * np.sin(2 * math.pi * 3.1 * age + ang * 3) + 0.08 * np.sin(ang * 2 + 1.0)
        r = 1 + flap
        rx, ry = th.length_m / 2, th.width_m / 2
        pts = np.stack([rx * r * np.cos(ang), ry * r * np.sin(ang)], axis=1)
        # the knot's two ears
        ear = 0.25 + 0.08 * math.sin(2 * math.pi * 4.0 * age)
        pts = np.vstack(
            [pts[:4], [(rx * 1.05, ry * ear), (rx * 1.35, ry * 0.55), (rx * 1.3, -ry * 0.1)], pts[4:]]
        )
    c, s = math.cos(phi), math.sin(phi)
    return pts @ np.array([[c, s], [-s, c]])


def _draw_object(frame: np.ndarray, cam: Camera, fl: Flight, n: int, phase: float) -> None:
    th = fl.throw
    t_mid = n / FPS
    subs = [t_mid + EXPOSURE_S * (k / 4 - 0.5) for k in range(5)]
    subs = [t for t in subs if th.t_launch <= t <= fl.t_land]
    if not subs:
        return
    polys = []
    for t in subs:
        centre = fl.at(t)
        (uv,), (depth,) = cam.project(centre[None])
        if depth <= 0.5:
            continue
        poly_m = _object_polygon(th, t, phase)
        polys.append(uv + poly_m * FOCAL / depth)
    if not polys:
        return
    allp = np.vstack(polys)
    x0, y0 = np.floor(allp.min(axis=0)).astype(int) - 2
    x1, y1 = np.ceil(allp.max(axis=0)).astype(int) + 3
    x0c, y0c, x1c, y1c = max(x0, 0), max(y0, 0), min(x1, WIDTH), min(y1, HEIGHT)
    if x0c >= x1c or y0c >= y1c:
        return
    alpha = np.zeros((y1 - y0, x1 - x0), np.float32)
    for poly in polys:
        m = np.zeros_like(alpha, dtype=np.uint8)
        cv2.fillPoly(m, [np.round((poly - (x0, y0)) * 16).astype(np.int32)], 255, cv2.LINE_AA, 4)
        alpha += m.astype(np.float32) / 255
    alpha /= len(polys)
    # shading: the bottle glints as it turns, the bag's plastic is glossy at the top
    age = subs[len(subs) // 2] - th.t_launch
    colour = np.array(th.colour_bgr, np.float32)
    if th.kind == "bottle":
        colour = colour * (1.0 + 0.9 * max(0.0, math.sin(2 * math.pi * th.spin_hz * age)) ** 8)
    else:
        colour = colour * (1.0 + 0.35 * max(0.0, math.sin(2 * math.pi * 1.3 * age)))
    a = alpha[y0c - y0 : y1c - y0, x0c - x0 : x1c - x0, None]
    roi = frame[y0c:y1c, x0c:x1c].astype(np.float32)
    frame[y0c:y1c, x0c:x1c] = np.clip(roi * (1 - a) + colour * a, 0, 255).astype(np.uint8)


@dataclass
class Bird:
    start: np.ndarray
    vel: np.ndarray
    t0: float
    span_m: float
    flap_hz: float
    glide: bool


def _draw_bird(frame: np.ndarray, cam: Camera, b: Bird, n: int) -> None:
    t = n / FPS - b.t0
    if t < 0:
        return
    p = b.start + b.vel * t
    (uv,), (depth,) = cam.project(p[None])
    if depth <= 1 or not (-30 < uv[0] < WIDTH + 30 and -30 < uv[1] < HEIGHT + 30):
        return
    half = b.span_m / 2 * FOCAL / depth
    flap = 0.15 if b.glide and (t % 2.0) > 0.6 else math.sin(2 * math.pi * b.flap_hz * t)
    tip_dy = -half * 0.6 * flap
    heading = cam.project((p + b.vel * 0.1)[None])[0][0] - uv
    hd = heading / (np.linalg.norm(heading) + 1e-9)
    pts = uv + np.array([(-half, tip_dy), (0.0, half * 0.12), (half, tip_dy)])
    sh = 16
    cv2.polylines(
        frame,
        [np.round(pts * sh).astype(np.int32)],
        False,
        (55, 58, 62),
        max(1, round(half * 0.22)),
        cv2.LINE_AA,
        4,
    )
    body = uv + hd * half * 0.25
    cv2.ellipse(
        frame,
        (round(body[0] * sh), round(body[1] * sh)),
        (max(1, round(half * 0.35 * sh)), max(1, round(half * 0.14 * sh))),
        math.degrees(math.atan2(hd[1], hd[0])),
        0,
        360,
        (60, 62, 66),
        -1,
        cv2.LINE_AA,
        4,
    )


class Tree:
    """An out-of-focus branch of a street tree hanging into the left edge, swaying in the wind."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.base = np.array([-60.0, 780.0])
        self.roi = (0, 250, 300, HEIGHT)  # x0, y0, x1, y1
        twigs = []
        for _ in range(9):
            tip = np.array([rng.uniform(50, 260), rng.uniform(300, 650)])
            twigs.append(tip)
        self.twigs = twigs
        leaves = []
        for tip in twigs:
            for _ in range(int(rng.integers(12, 20))):
                off = rng.normal(0, 26, 2)
                leaves.append(
                    (
                        tip + off,
                        rng.uniform(7, 15),
                        rng.uniform(4, 8),
                        rng.uniform(0, 180),
                        rng.uniform(0.55, 1.0),
                        rng.uniform(0, 2 * math.pi),
                    )
                )
        self.leaves = leaves

    def draw(self, frame: np.ndarray, n: int) -> None:
        t = n / FPS
        sway = 0.035 * math.sin(2 * math.pi * 0.31 * t) + 0.015 * math.sin(2 * math.pi * 0.87 * t + 1.0)
        x0, y0, x1, y1 = self.roi
        layer = np.zeros((y1 - y0, x1 - x0, 3), np.uint8)
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        origin = np.array([x0, y0], float)

        def rot(p: np.ndarray, extra: float = 0.0) -> np.ndarray:
            d = p - self.base
            a = sway * (np.linalg.norm(d) / 400) + extra
            c, s = math.cos(a), math.sin(a)
            return self.base + np.array([c * d[0] - s * d[1], s * d[0] + c * d[1]]) - origin

        sh = 16
        for tip in self.twigs:
            a, b = rot(self.base + (tip - self.base) * 0.15), rot(tip)
            for img, col in ((layer, (40, 50, 58)), (mask, 255)):
                cv2.line(
                    img,
                    tuple(np.round(a * sh).astype(int)),
                    tuple(np.round(b * sh).astype(int)),
                    col,
                    3,
                    cv2.LINE_AA,
                    4,
                )
        for centre, ax, ay, ang, shade, ph in self.leaves:
            flutter = 0.01 * math.sin(2 * math.pi * 2.3 * t + ph)
            c = rot(centre, flutter)
            col = (int(40 * shade), int(95 * shade), int(60 * shade))
            for img, cc in ((layer, col), (mask, 255)):
                cv2.ellipse(
                    img,
                    (round(c[0] * sh), round(c[1] * sh)),
                    (round(ax * sh), round(ay * sh)),
                    ang + 25 * math.sin(2 * math.pi * 1.1 * t + ph),
                    0,
                    360,
                    cc,
                    -1,
                    cv2.LINE_AA,
                    4,
                )
        # out of focus: it is 4 m from the lens
        # (the layer is black outside the mask, so its blur is the premultiplied colour)
        blurred = cv2.GaussianBlur(layer.astype(np.float32), (0, 0), 2.5)
        m = cv2.GaussianBlur(mask, (0, 0), 2.5).astype(np.float32)[..., None] / 255
        roi = frame[y0:y1, x0:x1].astype(np.float32)
        frame[y0:y1, x0:x1] = np.clip(roi * (1 - m) + blurred, 0, 255).astype(np.uint8)

    def covers(self, u: float, v: float) -> bool:
        x0, y0, x1, y1 = self.roi
        return x0 <= u < x1 + 10 and y0 - 10 <= v < y1


# ------------------------------------------------------------------------------------------ render


def _calibration(cam: Camera) -> dict[str, Any]:
    corners = np.array([(0, 0, 0), (WALL_W, 0, 0), (WALL_W, 0, TOP), (0, 0, TOP)], float)
    uv, _ = cam.project(corners)
    return {
        "facade": {
            "corners_px": [[round(float(u), 2), round(float(v), 2)] for u, v in uv],
            "floors": FLOORS,
            "columns": len(COLUMN_X),
            "floor_height_m": FLOOR_H,
            "column_centres": [round(x / WALL_W, 4) for x in COLUMN_X],
            "protrusion_depth_m": BALCONY_D,
        }
    }


def render_untuned(out_dir: Path, *, seed: int = 7) -> dict[str, Any]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    cam = Camera()
    rays = cam.rays()
    sun_px = np.array([1330.0, -40.0])
    sun = np.array([(sun_px[0] - WIDTH / 2) / FOCAL, (sun_px[1] - HEIGHT / 2) / FOCAL, 1.0]) @ cam.R
    sun /= np.linalg.norm(sun)

    static = static_scene(rng, cam, rays, sun)
    glare = glare_and_ghosts(rays, sun, sun_px)
    vig = vignette()
    tree = Tree(rng)
    birds = [
        Bird(np.array([-6.0, -9.0, 24.0]), np.array([8.5, 0.6, 0.3]), 0.2, 0.62, 5.5, False),
        Bird(np.array([34.0, -14.0, 44.0]), np.array([-7.5, 0.5, -1.6]), 2.6, 0.66, 4.8, True),
    ]
    flights = [_simulate(th) for th in THROWS]
    phases = [rng.uniform(0, 2 * math.pi) for _ in flights]

    truth_throws = []
    for fl in flights:
        th = fl.throw
        launch = math.ceil(th.t_launch * FPS)
        landing = math.ceil(fl.t_land * FPS)
        track, sizes = [], []
        for n in range(launch, min(landing, FRAMES - 1) + 1):
            (uv,), (depth,) = cam.project(fl.at(n / FPS)[None])
            u, v = float(uv[0]), float(uv[1])
            if depth > 0 and 0 <= u < WIDTH and 0 <= v < HEIGHT and not tree.covers(u, v):
                track.append([n, round(u, 2), round(v, 2)])
                sizes.append(th.length_m * FOCAL / depth)
        truth_throws.append(
            {
                "floor": th.floor,
                "column": th.column,
                "launch_frame": launch,
                "landing_frame": landing,
                "track": track,
                "object": th.kind,
                "size_px": [round(float(min(sizes)), 1), round(float(max(sizes)), 1)] if sizes else None,
                "launch_m": [round(float(x), 3) for x in fl.pos[0]],
                "fall_s": round(float(fl.t_land - th.t_launch), 3),
            }
        )
    truth = {"fps": FPS, "frames": FRAMES, "width": WIDTH, "height": HEIGHT, "throws": truth_throws}

    video = out_dir / "untuned.mp4"
    # sensor noise: a bank drawn once, read at a fresh random offset each frame
    pad = 48
    bank = rng.standard_normal((HEIGHT + pad, WIDTH + pad, 3), dtype=np.float32)
    glare_v = glare * vig
    with av.open(str(video), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"crf": "29", "preset": "veryfast"}
        for n in range(FRAMES):
            t = n / FPS
            frame = static.copy()
            for fl, ph in zip(flights, phases, strict=True):
                _draw_object(frame, cam, fl, n, ph)
            for b in birds:
                _draw_bird(frame, cam, b, n)
            tree.draw(frame, n)
            gain = 1.0 + 0.07 * math.sin(2 * math.pi * t / 6.5 + 0.4) - 0.03 * t / (FRAMES / FPS)
            img = frame.astype(np.float32)
            img *= vig
            img += glare_v
            img *= gain
            dx, dy = rng.integers(0, pad, 2)
            img += bank[dy : dy + HEIGHT, dx : dx + WIDTH] * (1.2 + 0.012 * img)
            out = np.clip(img, 0, 255).astype(np.uint8)
            vf = av.VideoFrame.from_ndarray(out, format="bgr24")
            for pkt in stream.encode(vf):
                container.mux(pkt)
        for pkt in stream.encode():
            container.mux(pkt)

    (out_dir / "untuned.calibration.json").write_text(json.dumps(_calibration(cam), indent=2))
    (out_dir / "untuned.truth.json").write_text(json.dumps(truth, indent=1))
    return truth


if __name__ == "__main__":  # pragma: no cover - a preview for people
    import sys

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "untuned_out")
    result = render_untuned(target)
    for th in result["throws"]:
        print({k: v for k, v in th.items() if k != "track"}, "track points:", len(th["track"]))
