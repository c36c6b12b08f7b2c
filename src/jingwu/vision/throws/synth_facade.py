"""The still part of a synthetic throw scene, drawn once per clip: the facade painted in wall
coordinates and warped into the picture (balconies as 3D slabs in front of it), sky, a distant
skyline and the ground from each pixel's ray, and the cloud layer that drifts over the sky.

The facade is warped at twice the picture's size and shrunk (INTER_AREA), so window frames many
floors up are anti-aliased rather than shimmering."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import cv2
import numpy as np

from jingwu.vision.throws.synth_scene import BuildingSpec, SceneSpec, camera_matrices, project, wall_corners

Colour = tuple[int, int, int]

_WALLS: tuple[Colour, ...] = (
    (215, 200, 175),
    (200, 200, 195),
    (190, 140, 110),
    (225, 210, 160),
    (232, 229, 222),
    (180, 190, 200),
    (215, 182, 170),
    (160, 150, 140),
)
_FRAMES: tuple[Colour, ...] = ((235, 235, 232), (70, 70, 75), (110, 80, 60), (150, 155, 160))
_LIT: tuple[Colour, ...] = ((240, 200, 130), (250, 225, 175), (205, 215, 235), (235, 180, 110))


def _jitter(rng: np.random.Generator, colour: Colour, amount: float) -> Colour:
    """The colour a little lighter or darker, and slightly tinted (a third of ``amount`` per channel)."""
    shift = rng.uniform(-amount, amount) + rng.uniform(-amount / 3, amount / 3, 3)
    return tuple(int(np.clip(c + d, 0, 255)) for c, d in zip(colour, shift, strict=True))  # type: ignore[return-value]


def _scaled(colour: Colour | np.ndarray, gain: float) -> Colour:
    return tuple(int(np.clip(c * gain, 0, 255)) for c in colour)  # type: ignore[return-value]


@dataclass(frozen=True)
class Style:
    """The colours and proportions the seed picks for one scene (night already applied)."""

    night: bool
    wall: Colour
    band: Colour
    frame: Colour
    glass: Colour
    parapet: Colour
    parapet_kind: str  # "solid", "glass" or "bars"
    ac_rate: float
    window_w_m: float
    window_h_m: float
    sill_m: float
    sky_zenith: Colour
    sky_horizon: Colour
    skyline: Colour
    ground: Colour
    verge: Colour
    cloud: Colour
    overcast: bool


def sample_style(rng: np.random.Generator, night: bool) -> Style:
    """A residential look: wall, window, balcony and sky colours, by day or by night."""
    wall = _jitter(rng, _WALLS[int(rng.integers(len(_WALLS)))], 12)
    overcast = bool(rng.random() < 0.3)
    if night:
        zenith, horizon = _jitter(rng, (8, 10, 24), 5), _jitter(rng, (46, 38, 44), 10)
        cloud, ground, verge = _jitter(rng, (48, 44, 50), 6), (24, 24, 27), (14, 20, 14)
    elif overcast:
        zenith, horizon = _jitter(rng, (165, 170, 178), 12), _jitter(rng, (200, 202, 206), 8)
        cloud, ground, verge = (
            _jitter(rng, (215, 216, 220), 8),
            _jitter(rng, (110, 108, 106), 15),
            (70, 95, 60),
        )
    else:
        zenith, horizon = _jitter(rng, (80, 135, 210), 20), _jitter(rng, (185, 208, 232), 12)
        cloud, ground, verge = (
            _jitter(rng, (246, 246, 250), 5),
            _jitter(rng, (125, 120, 115), 20),
            (70, 110, 55),
        )
    return Style(
        night=night,
        wall=wall,
        band=_scaled(wall, rng.uniform(0.8, 1.1)),
        frame=_jitter(rng, _FRAMES[int(rng.integers(len(_FRAMES)))], 8),
        glass=_jitter(rng, (60, 75, 92), 15),
        parapet=_scaled(wall, rng.uniform(0.85, 1.1))
        if rng.random() < 0.6
        else _jitter(rng, (225, 225, 222), 8),
        parapet_kind=str(rng.choice(["solid", "glass", "bars"])),
        ac_rate=float(rng.uniform(0.0, 0.6)),
        window_w_m=float(rng.uniform(1.2, 2.0)),
        window_h_m=float(rng.uniform(1.3, 1.7)),
        sill_m=float(rng.uniform(0.8, 1.0)),
        sky_zenith=zenith,
        sky_horizon=horizon,
        skyline=_scaled(horizon, 0.75 if not night else 0.6),
        ground=ground,
        verge=verge,
        cloud=cloud,
        overcast=overcast,
    )


def window_width_m(building: BuildingSpec, style: Style) -> float:
    """The window's width, narrowed where unevenly spaced columns leave little wall between them."""
    c = (0.0, *building.column_centres, 1.0)
    gaps = [b - a for a, b in itertools.pairwise(c[1:-1])] or [1.0 / building.columns]
    edge = 2 * min(c[1], 1 - c[-2])
    return min(style.window_w_m, 0.7 * min(*gaps, edge) * building.width_m)


def window_rect(
    building: BuildingSpec, style: Style, floor: int, column: int
) -> tuple[float, float, float, float]:
    """(x0, x1, y0, y1) of a window's outer frame on the wall, metres."""
    half = window_width_m(building, style) / 2
    x = building.column_x(column)
    y0 = (floor - 1) * building.floor_height_m + style.sill_m
    return x - half, x + half, y0, y0 + min(style.window_h_m, building.floor_height_m - style.sill_m - 0.25)


# ------------------------------------------------------------------------------ the wall texture


def wall_texture(
    spec: SceneSpec, style: Style, rng: np.random.Generator, ppm: float, lit: np.ndarray
) -> np.ndarray:
    """The facade in wall coordinates at ``ppm`` pixels a metre (row 0 = the top): wall, floor bands,
    windows (``lit`` [floor-1, column-1] glowing), air conditioners, shadows under balconies."""
    b = spec.building
    rows, cols = max(2, round(b.height_m * ppm)), max(2, round(b.width_m * ppm))
    grain = cv2.resize(
        rng.normal(0, 5, (max(2, rows // 40), max(2, cols // 40))).astype(np.float32), (cols, rows)
    )
    tex = cv2.merge([cv2.convertScaleAbs(grain, alpha=1.0, beta=float(c)) for c in style.wall])

    def px(x: float, y: float) -> tuple[int, int]:
        return round(x * ppm), round((b.height_m - y) * ppm)

    def box(x0: float, x1: float, y0: float, y1: float, colour: Colour) -> None:
        cv2.rectangle(tex, px(x0, y1), px(x1, y0), colour, -1)

    fh = b.floor_height_m
    for f in range(1, b.floors + 1):
        box(0, b.width_m, f * fh - 0.12, f * fh + 0.12, style.band)
    box(0, b.width_m, 0, 0.6, _scaled(style.wall, 0.7))  # the plinth
    frame_m = 0.07
    for f in range(1, b.floors + 1):
        for c in range(1, b.columns + 1):
            x0, x1, y0, y1 = window_rect(b, style, f, c)
            box(x0, x1, y0, y1, style.frame)
            glass = _scaled(style.glass, rng.uniform(0.75, 1.3))
            box(x0 + frame_m, x1 - frame_m, y0 + frame_m, y1 - frame_m, glass)
            mid = (x0 + x1) / 2
            box(mid - frame_m / 2, mid + frame_m / 2, y0, y1, style.frame)
            if rng.random() < style.ac_rate:
                side = x1 + 0.15 if rng.random() < 0.5 else x0 - 0.95
                box(side, side + 0.8, y0 - 0.1, y0 + 0.45, (222, 222, 216))
                for k in range(1, 5):
                    yk = y0 - 0.1 + 0.11 * k
                    box(side + 0.05, side + 0.75, yk, yk + 0.02, (170, 170, 168))
            if b.protrusion_depth_m > 0 and f > 1:  # the shadow under the balcony slab
                (c0, r0), (c1, r1) = px(mid - 1.3, (f - 1) * fh - 0.15), px(mid + 1.3, (f - 1) * fh - 0.8)
                r0, c0 = max(r0, 0), max(c0, 0)
                tex[r0:r1, c0:c1] = (tex[r0:r1, c0:c1] * 0.8).astype(np.uint8)
    if style.night:
        heights = b.height_m - (np.arange(rows) + 0.5) / ppm
        gain = (0.12 + 0.28 * np.exp(-heights / 9.0)).astype(np.float32)
        tex = (tex.astype(np.float32) * gain[:, None, None]).astype(np.uint8)
    warm = rng.integers(len(_LIT), size=lit.shape)  # drawn for every window: a light flipped keeps its colour
    dimmer = rng.uniform(0.55, 1.0, lit.shape)
    for f, c in zip(*np.nonzero(lit), strict=True):
        x0, x1, y0, y1 = window_rect(b, style, int(f) + 1, int(c) + 1)
        lamp = np.array(_LIT[warm[f, c]], np.float32)  # by day a lit room only brightens the glass
        on = (
            _scaled(lamp, dimmer[f, c])
            if style.night
            else _scaled(0.55 * np.array(style.glass) + 0.45 * lamp, 1.0)
        )
        box(x0 + frame_m, x1 - frame_m, y0 + frame_m, y1 - frame_m, on)
    return tex


def texture_scale(spec: SceneSpec) -> float:
    """Texture pixels a metre: enough for the nearest part of the wall at twice the picture's size,
    but no more than ~5000 texture pixels on a side."""
    K, R, t = camera_matrices(spec.camera, spec.width, spec.height)
    _, depth = project(K, R, t, wall_corners(spec.building))
    near = float(max(1.0, depth.min()))
    b = spec.building
    return float(max(6.0, min(2.0 * K[0, 0] / near, 5000 / b.height_m, 5000 / b.width_m)))


def _homography(spec: SceneSpec, ppm: float) -> np.ndarray:
    """Texture pixel → pixel of the picture at twice its size (centres kept aligned)."""
    K, R, t = camera_matrices(spec.camera, spec.width, spec.height)
    wall = K @ np.column_stack([R[:, 0], R[:, 1], t])
    tex = np.array([[1 / ppm, 0, 0.5 / ppm], [0, -1 / ppm, spec.building.height_m - 0.5 / ppm], [0, 0, 1]])
    double = np.array([[2.0, 0, 0.5], [0, 2.0, 0.5], [0, 0, 1]])
    return double @ wall @ tex


def _draw_balconies(spec: SceneSpec, style: Style, image: np.ndarray, mask: np.ndarray) -> None:
    """Each balcony as a box from the wall to its front at Z = d, drawn floor by floor from the top
    (lower ones are nearer the camera): underside, the side the camera sees, then the front."""
    b = spec.building
    d = b.protrusion_depth_m
    K, R, t = camera_matrices(spec.camera, spec.width, spec.height)
    fh = b.floor_height_m
    half = min(window_width_m(b, style) / 2 + 0.5, 0.46 * b.column_spacing_m)
    parapet = 1.0 if style.parapet_kind != "glass" else 1.1
    cam_x = spec.camera.x_m

    def poly(points: list[tuple[float, float, float]]) -> np.ndarray:
        uv, _ = project(K, R, t, np.array(points))
        return np.round((2 * uv + 0.5) * 16).astype(np.int32)

    def fill(points: list[tuple[float, float, float]], colour: Colour, alpha: float = 1.0) -> None:
        p = poly(points)
        if alpha >= 1.0:
            cv2.fillConvexPoly(image, p, colour, cv2.LINE_AA, 4)
        else:
            x0, y0 = np.maximum(p.min(axis=0) // 16 - 1, 0)
            x1, y1 = np.minimum(p.max(axis=0) // 16 + 2, (image.shape[1], image.shape[0]))
            if x1 <= x0 or y1 <= y0:
                return
            patch = image[y0:y1, x0:x1]
            layer = patch.copy()
            cv2.fillConvexPoly(layer, p - np.array([x0, y0]) * 16, colour, cv2.LINE_AA, 4)
            cv2.addWeighted(layer, alpha, patch, 1 - alpha, 0, dst=patch)
        cv2.fillConvexPoly(mask, p, 255, cv2.LINE_AA, 4)

    for f in range(b.floors, 1, -1):
        y0, y1 = (f - 1) * fh - 0.15, (f - 1) * fh + parapet
        lamp = 0.12 + 0.28 * math.exp(-y0 / 9.0) if style.night else 1.0  # as the wall is lit at night
        under, side = _scaled(style.wall, 0.55 * lamp), _scaled(style.wall, 0.75 * lamp)
        front = _scaled(style.parapet, lamp)
        for c in range(1, b.columns + 1):
            xa, xb = b.column_x(c) - half, b.column_x(c) + half
            fill([(xa, y0, 0), (xb, y0, 0), (xb, y0, d), (xa, y0, d)], under)
            if cam_x < xa:
                fill([(xa, y0, 0), (xa, y0, d), (xa, y1, d), (xa, y1, 0)], side)
            elif cam_x > xb:
                fill([(xb, y0, 0), (xb, y0, d), (xb, y1, d), (xb, y1, 0)], side)
            slab = [(xa, y0, d), (xb, y0, d), (xb, y0 + 0.2, d), (xa, y0 + 0.2, d)]
            if style.parapet_kind == "solid":
                fill([(xa, y0, d), (xb, y0, d), (xb, y1, d), (xa, y1, d)], front)
                fill([(xa, y1 - 0.08, d), (xb, y1 - 0.08, d), (xb, y1, d), (xa, y1, d)], _scaled(front, 1.15))
            elif style.parapet_kind == "glass":
                fill(
                    [(xa, y0, d), (xb, y0, d), (xb, y1, d), (xa, y1, d)], _scaled((150, 175, 185), lamp), 0.45
                )
                fill(slab, front)
            else:
                fill(slab, front)
                for k in range(int((xb - xa) / 0.25) + 1):
                    xk = xa + 0.25 * k
                    fill(
                        [(xk, y0, d), (xk + 0.04, y0, d), (xk + 0.04, y1, d), (xk, y1, d)],
                        _scaled((60, 60, 64), lamp),
                    )
            fill(
                [(xa, y1 - 0.05, d), (xb, y1 - 0.05, d), (xb, y1, d), (xa, y1, d)],
                _scaled((80, 80, 84), lamp),
            )


# ------------------------------------------------------------------------------ sky and ground


def _rays(spec: SceneSpec, step: int) -> np.ndarray:
    """Unit world directions of the rays through every ``step``-th pixel (centred in its block), float32."""
    K, R, _ = camera_matrices(spec.camera, spec.width, spec.height)
    cols, rows = -(-spec.width // step), -(-spec.height // step)
    offset = (step - 1) / 2
    u, v = np.meshgrid(
        np.arange(cols, dtype=np.float32) * step + offset, np.arange(rows, dtype=np.float32) * step + offset
    )
    pix = np.stack([u, v, np.ones_like(u)], axis=-1)
    rays = pix @ (R.T @ np.linalg.inv(K)).T.astype(np.float32)
    return rays / np.linalg.norm(rays, axis=-1, keepdims=True)


def sky_and_ground(spec: SceneSpec, style: Style, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The picture with no building (gradient sky, sun glow, a distant skyline, paved ground that
    fades into haze) and how much of each pixel is open sky (uint8, 255 = sky). Worked out on every
    second pixel of large pictures and enlarged: all of it is smooth but the skyline's edge."""
    step = 2 if spec.width * spec.height > 1_000_000 else 1
    rays = _rays(spec, step)
    dx, dy, dz = rays[..., 0], rays[..., 1], rays[..., 2]
    elev = np.arcsin(np.clip(dy, -1, 1))
    azim = np.arctan2(dx, -dz)
    t = np.sqrt(np.clip(elev / (math.pi / 2), 0, 1))[..., None]
    sky = np.array(style.sky_horizon, np.float32) * (1 - t) + np.array(style.sky_zenith, np.float32) * t
    if not style.night and not style.overcast:
        sun_az, sun_el = rng.uniform(-1.2, 1.2), rng.uniform(0.5, 1.2)
        cos_angle = np.cos(elev) * math.cos(sun_el) * np.cos(azim - sun_az) + np.sin(elev) * math.sin(sun_el)
        sky += (40 * np.exp((np.clip(cos_angle, -1, 1) - 1) / 0.05))[..., None]
    edges = np.cumsum(rng.uniform(0.03, 0.14, 80)) - 2.5
    heights = rng.uniform(0.005, 0.12, 80) * (rng.random(80) < 0.85)
    skyline = heights[np.clip(np.searchsorted(edges, azim), 0, 79)]
    in_skyline = (elev >= 0) & (elev < skyline)
    haze = np.clip(elev / 0.2, 0, 1)[..., None]
    sky = np.where(in_skyline[..., None], np.array(style.skyline, np.float32) * (1 - haze) + sky * haze, sky)
    if style.night:
        dots = in_skyline & (rng.random(in_skyline.shape) < 0.004)
        sky[dots] = (170, 150, 110)
    ground_mask = dy < 0
    cam = spec.camera
    with np.errstate(divide="ignore", invalid="ignore"):
        reach = np.where(ground_mask, cam.height_m / -dy, 0.0)
    gx, gz = cam.x_m + reach * dx, cam.distance_m + reach * dz
    tiles = ((np.floor(gx / 0.8) + np.floor(gz / 0.8)) % 2)[..., None] * 8
    ground = np.array(style.ground, np.float32) + tiles - 4
    ground = np.where(((gz > 0) & (gz < 1.6))[..., None], np.array(style.verge, np.float32), ground)
    if style.night:
        for _ in range(int(rng.integers(2, 5))):
            lx, lz = rng.uniform(-10, spec.building.width_m + 10), rng.uniform(3, cam.distance_m)
            pool = np.exp(-((gx - lx) ** 2 + (gz - lz) ** 2) / rng.uniform(8, 25))
            ground += (pool * 90)[..., None] * np.array([1.0, 0.8, 0.5], np.float32)
    fog = np.clip(reach / 250.0, 0, 1)[..., None]
    ground = ground * (1 - fog) + np.array(style.sky_horizon, np.float32) * fog
    picture: np.ndarray = np.clip(np.where(ground_mask[..., None], ground, sky), 0, 255).astype(np.uint8)
    open_sky: np.ndarray = np.where(ground_mask | in_skyline, 0, 255).astype(np.uint8)
    if step > 1:
        size = (spec.width, spec.height)
        picture = cv2.resize(
            picture, (picture.shape[1] * step, picture.shape[0] * step), interpolation=cv2.INTER_LINEAR
        )
        open_sky = cv2.resize(
            open_sky, (open_sky.shape[1] * step, open_sky.shape[0] * step), interpolation=cv2.INTER_LINEAR
        )
        picture, open_sky = picture[: size[1], : size[0]].copy(), open_sky[: size[1], : size[0]].copy()
    return picture, open_sky


@dataclass(frozen=True)
class Facade:
    """The facade warped into the picture: colour premultiplied by coverage, and the coverage."""

    premultiplied: np.ndarray  # (h, w, 3) uint8
    coverage: np.ndarray  # (h, w) uint8, 255 = building


def warp_facade(spec: SceneSpec, style: Style, texture: np.ndarray, ppm: float) -> Facade:
    """The texture put on the wall plane, balconies added, anti-aliased by drawing at 2× and shrinking."""
    size = (2 * spec.width, 2 * spec.height)
    big = cv2.warpPerspective(
        texture, _homography(spec, ppm), size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    mask = np.zeros((size[1], size[0]), np.uint8)
    K, R, t = camera_matrices(spec.camera, spec.width, spec.height)
    uv, _ = project(K, R, t, wall_corners(spec.building))
    quad = np.round((2 * uv + 0.5) * 16).astype(np.int32)
    cv2.fillConvexPoly(mask, quad, 255, cv2.LINE_AA, 4)
    if spec.building.protrusion_depth_m > 0:
        _draw_balconies(spec, style, big, mask)
    big = cv2.multiply(big, cv2.merge([mask, mask, mask]), scale=1 / 255)
    shrink = (spec.width, spec.height)
    return Facade(
        cv2.resize(big, shrink, interpolation=cv2.INTER_AREA),
        cv2.resize(mask, shrink, interpolation=cv2.INTER_AREA),
    )


def composite(under: np.ndarray, facade: Facade) -> np.ndarray:
    """The facade laid over the sky-and-ground picture."""
    keep = 255 - facade.coverage
    back = cv2.multiply(under, cv2.merge([keep, keep, keep]), scale=1 / 255)
    return cv2.add(back, facade.premultiplied)


def cloud_layer(
    rng: np.random.Generator, height: int, width: int, cover: float, opacity: float
) -> np.ndarray:
    """Cloud opacity (uint8) over a strip ``width`` wide: two octaves of smooth noise, thresholded softly."""
    coarse = rng.random((height // 48 + 3, width // 48 + 3)).astype(np.float32)
    fine = rng.random((height // 12 + 3, width // 12 + 3)).astype(np.float32)
    noise = 0.7 * cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    noise += 0.3 * cv2.resize(fine, (width, height), interpolation=cv2.INTER_CUBIC)
    alpha = np.clip((noise - (1 - cover) * 0.9) / 0.25, 0, 1) * opacity
    return (alpha * 255).astype(np.uint8)
