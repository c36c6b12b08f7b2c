"""The world of the untuned clip (:mod:`.untuned_scene`): the tower, the camera, the two throws'
figures, and the still picture (the facade painted in wall coordinates and warped into the
picture, the balconies face by face, the sky with the sun's glare, the vignette)."""

from __future__ import annotations

import math
from dataclasses import dataclass

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


def static_scene(rng: np.random.Generator, cam: Camera, rays: np.ndarray, sun: np.ndarray) -> np.ndarray:
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


def glare_and_ghosts(rays: np.ndarray, sun: np.ndarray, sun_px: np.ndarray) -> np.ndarray:
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


def vignette() -> np.ndarray:
    u, v = np.meshgrid(np.arange(WIDTH) - WIDTH / 2, np.arange(HEIGHT) - HEIGHT / 2)
    r2 = (u**2 + v**2) / FOCAL**2
    vig = 1 / (1 + r2) ** 1.2  # a bit gentler than cos⁴
    vig = 0.35 + 0.65 * vig / vig.max()
    return np.repeat(vig.astype(np.float32)[..., None], 3, axis=2)
