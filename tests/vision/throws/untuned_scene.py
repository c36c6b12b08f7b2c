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

WIDTH, HEIGHT, FPS = 1280, 720, 30
FRAMES = 240  # 8 s
EXPOSURE_S = 1 / 120  # motion blur of the moving things

# The tower (world: x along the wall to the right, y from the wall towards the street is negative,
# z up; the wall is the plane y = 0, its bottom-left corner the origin).
FLOORS, FLOOR_H = 26, 2.9
WALL_W = 27.0
TOP = FLOORS * FLOOR_H
PARAPET = 1.4  # the roof parapet above the top floor (not part of the calibrated wall)
COLUMN_X = (2.3, 6.4, 10.9, 15.6, 20.3, 24.6)  # unequal units
BALCONY_W = (2.6, 3.0, 3.4, 3.4, 3.0, 2.6)
BALCONY_D = 1.0
RAIL_H = 1.1

# The camera.
FOCAL = 575.0
CAM_POS = (10.5, -23.0, 1.4)
YAW_DEG, PITCH_DEG, ROLL_DEG = 7.0, 42.0, -1.8
WIND = np.array([1.0, 0.0, 0.0])
GRAVITY = 9.81
AIR = 1.225

TEX_SCALE = 32.0  # facade texture px per metre


@dataclass(frozen=True)
class Throw:
    kind: str  # "bag" | "bottle"
    floor: int
    column: int
    t_launch: float
    v0: tuple[float, float, float]
    length_m: float
    width_m: float
    mass_kg: float
    cd_area_m2: float  # drag coefficient × frontal area
    spin_hz: float
    colour_bgr: tuple[int, int, int]


THROWS = (
    Throw("bag", 19, 4, 0.83, (0.35, -1.3, 0.7), 0.40, 0.30, 1.1, 0.10, 0.55, (38, 40, 36)),
    Throw("bottle", 8, 2, 3.95, (-0.25, -1.8, 1.0), 0.32, 0.085, 0.6, 0.0100, 2.3, (30, 72, 28)),
)


# ------------------------------------------------------------------------------------------ camera


class Camera:
    def __init__(self) -> None:
        self.K = np.array([[FOCAL, 0, WIDTH / 2], [0, FOCAL, HEIGHT / 2], [0, 0, 1.0]])
        yaw, pitch, roll = (math.radians(a) for a in (YAW_DEG, PITCH_DEG, ROLL_DEG))
        fwd = np.array([math.sin(yaw) * math.cos(pitch), math.cos(yaw) * math.cos(pitch), math.sin(pitch)])
        right = np.array([math.cos(yaw), -math.sin(yaw), 0.0])
        down = np.cross(fwd, right)
        # roll about the optical axis
        cr, sr = math.cos(roll), math.sin(roll)
        right, down = cr * right + sr * down, -sr * right + cr * down
        self.R = np.stack([right, down, fwd])  # world -> camera
        self.C = np.array(CAM_POS, dtype=float)
        self.t = -self.R @ self.C

    def project(self, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """World points (N×3) -> pixels (N×2) and depth along the optical axis (N)."""
        pc = (self.R @ np.asarray(pts, dtype=float).T).T + self.t
        uv = (self.K @ pc.T).T
        return uv[:, :2] / uv[:, 2:3], pc[:, 2]

    def rays(self) -> np.ndarray:
        """Unit world direction of every pixel's ray, H×W×3."""
        u, v = np.meshgrid(np.arange(WIDTH) + 0.0, np.arange(HEIGHT) + 0.0)
        pix = np.stack([(u - WIDTH / 2) / FOCAL, (v - HEIGHT / 2) / FOCAL, np.ones_like(u)], axis=-1)
        d = pix @ self.R  # R^T applied to each row vector
        return d / np.linalg.norm(d, axis=-1, keepdims=True)

    def wall_homography(self, tex_h: int) -> np.ndarray:
        """Texture pixel (a, b) of the facade -> image pixel."""
        to_xz = np.array([[1 / TEX_SCALE, 0, 0], [0, -1 / TEX_SCALE, tex_h / TEX_SCALE], [0, 0, 1]])
        m = np.stack([self.R[:, 0], self.R[:, 2], self.t], axis=1)
        return self.K @ m @ to_xz


# ------------------------------------------------------------------------------------------ facade


def _facade_texture(rng: np.random.Generator, cam: Camera) -> np.ndarray:
    s = TEX_SCALE
    tw, th = round(WALL_W * s), round((TOP + PARAPET) * s)

    def y_of(z: float) -> int:  # texture row of height z
        return round(th - z * s)

    def x_of(x: float) -> int:
        return round(x * s)

    tex = np.empty((th, tw, 3), np.float32)
    tex[:] = (168, 186, 203)  # warm beige paint over mosaic tiles (BGR)
    # mosaic tiles 0.30 × 0.15 m with their own shade, grout lines
    tile_w, tile_h = 0.30, 0.15
    nx, ny = int(WALL_W / tile_w) + 1, int((TOP + PARAPET) / tile_h) + 1
    shade = rng.normal(0, 4.0, (ny, nx)).astype(np.float32)
    shade_img = cv2.resize(
        shade, (nx * round(tile_w * s), ny * round(tile_h * s)), interpolation=cv2.INTER_NEAREST
    )[:th, :tw]
    tex += shade_img[..., None]
    for k in range(ny):
        tex[max(0, y_of(k * tile_h)) : max(0, y_of(k * tile_h)) + 1] *= 0.93
    for k in range(nx):
        tex[:, x_of(k * tile_w) : x_of(k * tile_w) + 1] *= 0.95
    # stone base over the ground floor, a pale band at each slab, terracotta pilasters between units
    tex[y_of(FLOOR_H * 1.0) :] = (120, 128, 136)
    tex[y_of(FLOOR_H * 1.0) :] += rng.normal(0, 6, (th - y_of(FLOOR_H), tw, 1)).astype(np.float32)
    for f in range(1, FLOORS + 1):
        z = f * FLOOR_H
        tex[y_of(z + 0.18) : y_of(z - 0.12)] = (206, 212, 216)
    bounds = [0.0] + [(COLUMN_X[i] + COLUMN_X[i + 1]) / 2 for i in range(len(COLUMN_X) - 1)] + [WALL_W]
    for b in bounds[1:-1]:
        tex[: y_of(FLOOR_H), x_of(b - 0.22) : x_of(b + 0.22)] = (96, 118, 150)
    tex[: y_of(TOP), :] = (190, 196, 200)  # roof parapet
    tex[y_of(TOP + 0.1) : y_of(TOP - 0.05)] = (90, 95, 100)

    sky_hi = np.array([190, 160, 120], np.float32)  # reflected sky in glass (BGR)
    sky_lo = np.array([215, 200, 185], np.float32)

    def glass(x0: int, y0: int, x1: int, y1: int) -> None:
        h, w = y1 - y0, x1 - x0
        if h <= 2 or w <= 2:
            return
        kind = rng.random()
        grad = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
        pane = (sky_hi * (1 - grad) + sky_lo * grad) * rng.uniform(0.55, 0.85)
        pane = np.broadcast_to(pane, (h, w, 3)).copy()
        if kind < 0.28:  # curtains, folded
            colour = np.array(
                [(150, 190, 215), (60, 60, 120), (140, 130, 110), (200, 205, 210), (90, 120, 80)][
                    rng.integers(5)
                ],
                np.float32,
            )
            cover = rng.uniform(0.35, 1.0)
            cw = max(2, round(w * cover))
            folds = 0.82 + 0.18 * np.sin(np.arange(cw) / rng.uniform(2.0, 4.0))[None, :, None]
            side = rng.random() < 0.5
            sl = slice(0, cw) if side else slice(w - cw, w)
            pane[:, sl] = colour * folds
        elif kind < 0.34:  # lit room
            pane[:] = np.array([120, 200, 245], np.float32) * rng.uniform(0.8, 1.0)
        elif kind < 0.70:  # dark room behind the glass
            pane *= 0.45
        if rng.random() < 0.25:  # a bright diagonal reflection
            yy, xx = np.mgrid[0:h, 0:w]
            band = np.abs((xx - w * rng.uniform(0.2, 0.8)) + 0.6 * (yy - h / 2)) < max(2, w * 0.08)
            pane[band] = pane[band] * 0.4 + 255 * 0.6
        tex[y0:y1, x0:x1] = pane
        # aluminium frame and mullions
        frame = (200, 200, 198)
        cv2.rectangle(tex, (x0, y0), (x1 - 1, y1 - 1), frame, 2)
        panes = int(rng.integers(2, 5))
        for k in range(1, panes):
            xm = x0 + k * w // panes
            cv2.line(tex, (xm, y0), (xm, y1 - 1), frame, 1)
        if rng.random() < 0.5:
            ym = y0 + int(h * 0.3)
            cv2.line(tex, (x0, ym), (x1 - 1, ym), frame, 1)

    for f in range(1, FLOORS + 1):
        z0 = (f - 1) * FLOOR_H
        for c, xc in enumerate(COLUMN_X):
            # the balcony door / window of the unit, irregular size
            w = BALCONY_W[c] - rng.uniform(0.5, 1.0)
            h = rng.uniform(1.9, 2.3) if f > 1 else 2.2
            bottom = z0 + (0.1 if f > 1 else 0.3)
            glass(x_of(xc - w / 2), y_of(bottom + h), x_of(xc + w / 2), y_of(bottom))
            # a small bathroom/kitchen window beside some units
            if rng.random() < 0.55 and f > 1:
                side = 1 if rng.random() < 0.5 else -1
                sw, sh = rng.uniform(0.5, 0.9), rng.uniform(0.8, 1.3)
                sx = xc + side * (BALCONY_W[c] / 2 + 0.25 + sw / 2)
                if sx - sw / 2 > 0.3 and sx + sw / 2 < WALL_W - 0.3:
                    glass(x_of(sx - sw / 2), y_of(z0 + 1.0 + sh), x_of(sx + sw / 2), y_of(z0 + 1.0))
            # an air conditioner's outdoor unit on the wall, with its rust streak below
            if rng.random() < 0.3 and f > 1:
                side = 1 if rng.random() < 0.5 else -1
                ax = xc + side * (BALCONY_W[c] / 2 + 0.55)
                if 0.5 < ax < WALL_W - 0.5:
                    a0, a1 = x_of(ax - 0.4), x_of(ax + 0.4)
                    b0, b1 = y_of(z0 + 2.4), y_of(z0 + 1.85)
                    tex[b1 : b1 + int(1.5 * s), a0 + 4 : a1 - 4] *= np.linspace(
                        0.8, 1.0, int(1.5 * s), dtype=np.float32
                    )[:, None, None]
                    tex[b0:b1, a0:a1] = (208, 210, 212)
                    cv2.circle(tex, ((a0 + a1) // 2 + 3, (b0 + b1) // 2), int(0.18 * s), (120, 120, 120), 1)
    # weathering: soft large-scale blotches
    blot = cv2.resize(
        rng.normal(0, 1, (th // 64 + 2, tw // 64 + 2)).astype(np.float32),
        (tw, th),
        interpolation=cv2.INTER_CUBIC,
    )
    tex *= (1 + 0.035 * blot)[..., None]
    # aerial haze with distance from the camera
    zz = (th - np.arange(th) - 0.5) / s
    xx = (np.arange(tw) + 0.5) / s
    dist = np.sqrt((xx[None, :] - cam.C[0]) ** 2 + cam.C[1] ** 2 + (zz[:, None] - cam.C[2]) ** 2)
    haze = (1 - np.exp(-dist / 450.0)).astype(np.float32)[..., None]
    tex = tex * (1 - haze) + np.array([215, 205, 195], np.float32) * haze
    return np.clip(tex, 0, 255).astype(np.uint8)


def _sky_and_ground(cam: Camera, rays: np.ndarray, sun: np.ndarray) -> np.ndarray:
    elev = np.arcsin(np.clip(rays[..., 2], -1, 1))
    e = np.clip(elev / (math.pi / 2), 0, 1)[..., None] ** 0.6
    horizon = np.array([222, 214, 205], np.float32)
    zenith = np.array([205, 150, 95], np.float32)
    sky = horizon * (1 - e) + zenith * e
    ang = np.arccos(np.clip(rays @ sun, -1, 1))[..., None]
    glow = 0.9 * np.exp(-ang / 0.05) + 0.25 * np.exp(-ang / 0.3)
    sky = sky + np.array([255, 250, 240], np.float32) * glow
    ground = np.array([95, 100, 105], np.float32)
    return np.where(elev[..., None] < 0, ground, sky).astype(np.float32)


def _balcony_faces(cam: Camera) -> list[tuple[float, np.ndarray, tuple[float, ...]]]:
    """(distance, polygon px, colour) for every visible balcony face, far ones first."""
    faces = []
    for f in range(2, FLOORS + 1):
        z0 = (f - 1) * FLOOR_H
        for c, xc in enumerate(COLUMN_X):
            x0, x1 = xc - BALCONY_W[c] / 2, xc + BALCONY_W[c] / 2
            y0, y1 = -BALCONY_D, 0.0
            za, zb = z0 - 0.12, z0 + RAIL_H
            boxes = [
                # bottom face (camera is below every balcony)
                ([(x0, y0, za), (x1, y0, za), (x1, y1, za), (x0, y1, za)], (120, 124, 128)),
                # front face
                ([(x0, y0, za), (x1, y0, za), (x1, y0, zb), (x0, y0, zb)], (206, 210, 214)),
            ]
            side_x = x0 if cam.C[0] < x0 else (x1 if cam.C[0] > x1 else None)
            if side_x is not None:
                boxes.append(
                    (
                        [(side_x, y0, za), (side_x, y1, za), (side_x, y1, zb), (side_x, y0, zb)],
                        (170, 176, 182),
                    )
                )
            centre = np.array([xc, -BALCONY_D / 2, z0])
            d = float(np.linalg.norm(centre - cam.C))
            haze = 1 - math.exp(-d / 450.0)
            for pts, col in boxes:
                uv, depth = cam.project(np.array(pts))
                if np.any(depth <= 0.1):
                    continue
                colour = tuple(
                    float(ci * (1 - haze) + hz * haze) for ci, hz in zip(col, (215, 205, 195), strict=True)
                )
                faces.append((d, uv, colour))
            # the handrail: a dark line along the top of the front face
            uv, _ = cam.project(np.array([(x0, y0, zb), (x1, y0, zb)]))
            faces.append((d - 0.01, uv, (80, 85, 90)))
    faces.sort(key=lambda fc: -fc[0])
    return faces


def _static_scene(rng: np.random.Generator, cam: Camera, rays: np.ndarray, sun: np.ndarray) -> np.ndarray:
    tex = _facade_texture(rng, cam)
    hom = cam.wall_homography(tex.shape[0])
    wall = cv2.warpPerspective(tex, hom, (WIDTH, HEIGHT), flags=cv2.INTER_LINEAR)
    mask = (
        cv2.warpPerspective(
            np.full(tex.shape[:2], 255, np.uint8), hom, (WIDTH, HEIGHT), flags=cv2.INTER_LINEAR
        ).astype(np.float32)[..., None]
        / 255
    )
    img = _sky_and_ground(cam, rays, sun) * (1 - mask) + wall.astype(np.float32) * mask
    img8 = np.clip(img, 0, 255).astype(np.uint8)
    sh = 4
    for _, uv, colour in _balcony_faces(cam):
        pts = np.round(uv * (1 << sh)).astype(np.int32)
        if len(pts) == 2:
            cv2.line(img8, tuple(pts[0]), tuple(pts[1]), colour, 2, cv2.LINE_AA, sh)
        else:
            cv2.fillConvexPoly(img8, pts, colour, cv2.LINE_AA, sh)
    # laundry hung on a few balcony fronts (static cloths)
    for _ in range(9):
        f = int(rng.integers(3, FLOORS))
        c = int(rng.integers(len(COLUMN_X)))
        z0 = (f - 1) * FLOOR_H
        x = COLUMN_X[c] + rng.uniform(-0.8, 0.8)
        w, h = rng.uniform(0.3, 0.7), rng.uniform(0.4, 0.8)
        pts = np.array(
            [
                (x, -BALCONY_D - 0.03, z0 + RAIL_H),
                (x + w, -BALCONY_D - 0.03, z0 + RAIL_H),
                (x + w, -BALCONY_D - 0.03, z0 + RAIL_H - h),
                (x, -BALCONY_D - 0.03, z0 + RAIL_H - h),
            ]
        )
        uv, _ = cam.project(pts)
        colour = [(60, 60, 170), (200, 150, 80), (230, 230, 230), (80, 160, 200)][int(rng.integers(4))]
        cv2.fillConvexPoly(img8, np.round(uv * 16).astype(np.int32), colour, cv2.LINE_AA, 4)
    return img8


def _glare_and_ghosts(rays: np.ndarray, sun: np.ndarray, sun_px: np.ndarray) -> np.ndarray:
    ang = np.arccos(np.clip(rays @ sun, -1, 1))
    veil = (30 * np.exp(-ang / 0.35) + 6 * np.exp(-ang / 1.2)).astype(np.float32)
    glare = np.repeat(veil[..., None], 3, axis=2) * np.array([1.0, 0.98, 0.92], np.float32)
    centre = np.array([WIDTH / 2, HEIGHT / 2])
    ghosts = np.zeros_like(glare)
    for k, r, col in ((0.55, 26, (10, 14, 6)), (1.35, 48, (5, 10, 14)), (1.75, 16, (14, 8, 12))):
        p = sun_px + (centre - sun_px) * k
        cv2.circle(ghosts, (round(p[0]), round(p[1])), r, col, -1, cv2.LINE_AA)
    ghosts = cv2.GaussianBlur(ghosts, (0, 0), 3)
    return glare + ghosts


def _vignette() -> np.ndarray:
    u, v = np.meshgrid(np.arange(WIDTH) - WIDTH / 2, np.arange(HEIGHT) - HEIGHT / 2)
    r2 = (u**2 + v**2) / FOCAL**2
    vig = 1 / (1 + r2) ** 1.2  # a bit gentler than cos⁴
    vig = 0.35 + 0.65 * vig / vig.max()
    return np.repeat(vig.astype(np.float32)[..., None], 3, axis=2)


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

    static = _static_scene(rng, cam, rays, sun)
    glare = _glare_and_ghosts(rays, sun, sun_px)
    vig = _vignette()
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
