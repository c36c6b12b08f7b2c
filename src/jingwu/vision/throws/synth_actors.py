"""What moves in a synthetic throw scene, one class per thing: the thrown objects and each named
distractor. Everything random is drawn when the actor is built (from a generator the renderer seeds
per actor), or per frame in frame order, so a scene renders the same every time.

Pixel sizes of distractors are given for 1080 lines and scaled with the picture's height."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from jingwu.vision.throws.synth_draw import Shape, blend, blend_sprite, blob_sprite
from jingwu.vision.throws.synth_scene import SceneSpec, ThrowSpec, Trajectory, camera_matrices, project

_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


class Actor:
    """Something drawn into each frame, in the order the renderer lists them."""

    def draw(self, frame: np.ndarray, i: int) -> None:
        raise NotImplementedError


def _scale(spec: SceneSpec) -> float:
    return spec.height / 1080.0


# ------------------------------------------------------------------------------ the throws


def throw_colour(throw: ThrowSpec, behind: np.ndarray, night: bool, rng: np.random.Generator) -> np.ndarray:
    """The object's colour in the picture: at least ~25 grey levels off what is behind its launch
    point by day, ~12 by night when dimmed to what street lamps light (further down, windows, sky
    and balconies may still hide it)."""
    colour = np.array(throw.rgb, np.float32) * (rng.uniform(0.3, 0.5) if night else 1.0)
    least = 12.0 if night else 25.0
    back = float(np.asarray(behind, np.float32) @ _LUMA)
    gap = float(colour @ _LUMA) - back
    if abs(gap) < least:
        up = gap > 0 or (gap == 0 and back < 128)
        if (up and back + least > 255) or (not up and back - least < 0):
            up = not up
        target = back + least if up else back - least
        colour = np.clip(colour + (target - float(colour @ _LUMA)), 0, 255)
    return colour


class ThrowActor(Actor):
    """A thrown object: its flight sampled over each frame's shutter, drawn as its tumbling shape."""

    def __init__(
        self, spec: SceneSpec, throw: ThrowSpec, flight: Trajectory, colour: np.ndarray, frames: set[int]
    ):
        self.spec, self.throw, self.flight, self.colour, self.frames = spec, throw, flight, colour, frames
        self.K, self.R, self.t = camera_matrices(spec.camera, spec.width, spec.height)
        self.luminous = spec.night and throw.kind == "cigarette"
        self.tip = np.array([255, 170, 90], np.float32)

    def draw(self, frame: np.ndarray, i: int) -> None:
        if i not in self.frames:
            return
        spec, throw = self.spec, self.throw
        t_end = i / spec.fps
        shutter = max(spec.camera.shutter_s, 1e-4)
        t_start = max(self.flight.t0, t_end - shutter)
        present = max(
            0.5, (t_end - t_start) / shutter
        )  # the first frame shows it even when thrown mid-shutter
        ends, _ = project(self.K, self.R, self.t, self.flight.at(np.array([t_start, t_end])))
        length = float(np.linalg.norm(ends[1] - ends[0]))
        _, depth = project(self.K, self.R, self.t, self.flight.at(np.array([t_end])))
        size = self.K[0, 0] * throw.diameter_m / max(float(depth[0]), 0.1)
        n = int(np.clip(math.ceil(length / max(0.5 * size, 0.5)) + 1, 2, 48))
        times = np.linspace(t_start, t_end, n)
        uv, depths = project(self.K, self.R, self.t, self.flight.at(times))
        shapes = []
        for tj, (u, v), d in zip(times, uv, depths, strict=True):
            s = max(1.0, self.K[0, 0] * throw.diameter_m / max(float(d), 0.1))
            angle = math.degrees(throw.spin_rad_s * tj)
            turn = abs(math.cos(0.7 * throw.spin_rad_s * tj))
            if throw.kind == "bottle":
                shapes.append(Shape("rect", u, v, s * (1 + 1.8 * turn), s, angle, present / n))
            elif throw.kind == "box":
                shapes.append(Shape("rect", u, v, s * 0.9, s * (0.5 + 0.4 * turn), angle, present / n))
            elif throw.kind == "bag":
                shapes.append(Shape("ellipse", u, v, s, s * (0.65 + 0.3 * turn), angle * 0.3, present / n))
            else:
                shapes.append(Shape("disc", u, v, s, s, 0.0, present / n))
        if self.luminous:
            blend(
                frame, [Shape("disc", s.u, s.v, max(1.5, s.a), 0, 0, s.weight) for s in shapes], self.tip, 3.0
            )
        else:
            blend(frame, shapes, self.colour)


# ------------------------------------------------------------------------------ distractors


@dataclass
class _Bird:
    start: float
    u0: float
    v0: float
    vu: float
    vv: float
    size: float
    flap_hz: float
    shade: float
    mode: str


class Birds(Actor):
    """Dark 2–8 px birds crossing the picture: flapping (size and brightness beating) level or
    rising, or gliding down without a beat; most cross the facade."""

    def __init__(self, spec: SceneSpec, rng: np.random.Generator):
        self.spec, sc = spec, _scale(spec)
        count = int(rng.integers(2, 5) + rng.poisson(spec.duration_s / 5))
        self.birds: list[_Bird] = []
        for _ in range(count):
            left = rng.random() < 0.5
            mode = str(rng.choice(["level", "rising", "gliding"]))
            speed = rng.uniform(120, 450) * sc
            slope = {
                "level": rng.uniform(-0.12, 0.12),
                "rising": -rng.uniform(0.2, 0.7),
                "gliding": rng.uniform(0.1, 0.45),
            }[mode]
            direction = 1.0 if left else -1.0
            self.birds.append(
                _Bird(
                    start=rng.uniform(-2, spec.duration_s),
                    u0=-10.0 if left else spec.width + 10.0,
                    v0=rng.uniform(0.05, 0.8) * spec.height,
                    vu=direction * speed,
                    vv=speed * slope,
                    size=max(1.5, rng.uniform(2, 8) * sc * 1.2),
                    flap_hz=0.0 if mode == "gliding" else rng.uniform(3, 8),
                    shade=rng.uniform(25, 80),
                    mode=mode,
                )
            )

    def draw(self, frame: np.ndarray, i: int) -> None:
        t = i / self.spec.fps
        for b in self.birds:
            age = t - b.start
            if age < 0:
                continue
            u, v = b.u0 + b.vu * age, b.v0 + b.vv * age + (2 * math.sin(3 * age) if b.mode == "level" else 0)
            if not (-20 < u < self.spec.width + 20 and -20 < v < self.spec.height + 20):
                continue
            beat = math.sin(2 * math.pi * b.flap_hz * age)
            a, h = b.size * (1 + 0.35 * beat), b.size * (0.45 + 0.25 * abs(beat))
            angle = math.degrees(math.atan2(b.vv, b.vu))
            blur = Shape(
                "ellipse", u - 0.3 * b.vu / self.spec.fps, v - 0.3 * b.vv / self.spec.fps, a, h, angle, 0.4
            )
            shade = b.shade * (1 + 0.3 * beat)
            blend(frame, [blur, Shape("ellipse", u, v, a, h, angle, 0.6)], (shade, shade, shade * 1.05))


@dataclass
class _Debris:
    start: float
    x: float
    y: float
    z: float
    fall: float
    drift: float
    sway: float
    omega: float
    phase: float
    spin: float
    size: float
    colour: np.ndarray


class Debris(Actor):
    """Leaves or paper fluttering down in front of the facade at 0.5–2 m/s, swaying side to side
    and turning over, some from high up."""

    def __init__(self, spec: SceneSpec, rng: np.random.Generator, kind: str):
        self.spec, self.kind = spec, kind
        self.K, self.R, self.t = camera_matrices(spec.camera, spec.width, spec.height)
        b = spec.building
        count = int(rng.integers(4, 12)) if kind == "leaves" else int(rng.integers(1, 5))
        count += int(spec.duration_s // 15)
        leaf_colours = ((80, 120, 40), (150, 120, 40), (120, 70, 30), (190, 160, 60))
        self.items: list[_Debris] = []
        for _ in range(count):
            high = rng.random() < 0.5
            colour = leaf_colours[int(rng.integers(4))] if kind == "leaves" else (235, 235, 228)
            gain = 0.35 if spec.night else 1.0
            self.items.append(
                _Debris(
                    start=rng.uniform(-6, spec.duration_s - 1),
                    x=rng.uniform(-3, b.width_m + 3),
                    y=b.height_m * (rng.uniform(0.5, 1.0) if high else rng.uniform(0.15, 0.5)),
                    z=rng.uniform(0.5, min(8.0, 0.5 * spec.camera.distance_m)),
                    fall=rng.uniform(0.5, 2.0),
                    drift=rng.uniform(-0.5, 0.5),
                    sway=rng.uniform(0.3, 1.2),
                    omega=rng.uniform(1.0, 3.0),
                    phase=rng.uniform(0, 2 * math.pi),
                    spin=rng.uniform(1, 4) * rng.choice([-1, 1]),
                    size=rng.uniform(0.05, 0.12) if kind == "leaves" else rng.uniform(0.15, 0.3),
                    colour=np.array(colour, np.float32) * gain,
                )
            )

    def draw(self, frame: np.ndarray, i: int) -> None:
        t = i / self.spec.fps
        for d in self.items:
            age = t - d.start
            if age < 0:
                continue
            y = d.y - d.fall * age + 0.15 * math.sin(2 * d.omega * age + d.phase)
            if y <= 0:
                continue
            x = d.x + d.drift * age + d.sway * math.sin(d.omega * age + d.phase)
            z = d.z + 0.3 * math.sin(0.7 * d.omega * age)
            (u, v), depth = (q[0] for q in project(self.K, self.R, self.t, np.array([[x, y, z]])))
            if depth <= 0.5:
                continue
            s = max(1.0, self.K[0, 0] * d.size / depth)
            flip = abs(math.cos(1.3 * d.spin * age)) * 0.8 + 0.2
            angle = math.degrees(d.spin * age)
            kind = "ellipse" if self.kind == "leaves" else "rect"
            blend(
                frame,
                [
                    Shape(
                        kind,
                        float(u),
                        float(v),
                        s,
                        s * (0.5 if self.kind == "leaves" else 0.75) * flip,
                        angle,
                    )
                ],
                d.colour,
            )


class Rain(Actor):
    """Many short, faint, bright streaks, new every frame, slanted by the wind."""

    def __init__(self, spec: SceneSpec, rng: np.random.Generator):
        self.spec, self.rng, sc = spec, rng, _scale(spec)
        self.count = max(10, int(rng.uniform(150, 500) * spec.width * spec.height / (1920 * 1080)))
        self.slant = rng.uniform(-0.25, 0.25)
        self.length = (rng.uniform(15, 30) * sc, rng.uniform(30, 50) * sc)
        self.bright = (8, 20) if spec.night else (12, 35)

    def draw(self, frame: np.ndarray, i: int) -> None:
        rng, n = self.rng, self.count
        u, v = rng.uniform(0, self.spec.width, n), rng.uniform(0, self.spec.height, n)
        length = rng.uniform(*self.length, n)
        slant = self.slant + rng.normal(0, 0.03, n)
        layer = np.zeros_like(frame)
        for k in range(n):
            du, dv = slant[k] * length[k], length[k]
            level = int(rng.integers(*self.bright))
            p0 = (round(u[k] * 16), round(v[k] * 16))
            p1 = (round((u[k] + du) * 16), round((v[k] + dv) * 16))
            cv2.line(layer, p0, p1, (level, level, level), 1, cv2.LINE_AA, 4)
        cv2.add(frame, layer, dst=frame)


class Snow(Actor):
    """Many slow white flakes drifting down and swaying; nearer ones bigger and faster."""

    def __init__(self, spec: SceneSpec, rng: np.random.Generator):
        self.spec, sc = spec, _scale(spec)
        n = max(20, int(rng.uniform(250, 800) * spec.width * spec.height / (1920 * 1080)))
        near = rng.random(n) ** 2
        self.u0, self.v0 = rng.uniform(0, spec.width, n), rng.uniform(0, spec.height, n)
        self.fall = (15 + 60 * near) * sc
        self.radius = np.maximum(0.5, (0.5 + 2.0 * near) * sc)
        self.sway, self.hz, self.phase = (
            rng.uniform(3, 15, n) * sc,
            rng.uniform(0.3, 1.2, n),
            rng.uniform(0, 6.3, n),
        )
        self.wind = rng.uniform(-20, 20) * sc
        grey = rng.uniform(180, 245, n) * (0.55 if spec.night else 1.0)
        self.grey = grey.astype(int)

    def draw(self, frame: np.ndarray, i: int) -> None:
        t = i / self.spec.fps
        w, h = self.spec.width, self.spec.height
        v = (self.v0 + self.fall * t) % (h + 20) - 10
        u = (self.u0 + self.wind * t + self.sway * np.sin(2 * math.pi * self.hz * t + self.phase)) % w
        for x, y, r, g in zip(u, v, self.radius, self.grey, strict=True):
            cv2.circle(
                frame,
                (round(x * 16), round(y * 16)),
                max(8, round(r * 16)),
                (int(g), int(g), int(g)),
                -1,
                cv2.LINE_AA,
                4,
            )


class Insects(Actor):
    """A blurred blob near the lens, 20–80 px, darting about for a few seconds at a time (dark by
    day, bright by night)."""

    def __init__(self, spec: SceneSpec, rng: np.random.Generator):
        self.spec, sc = spec, _scale(spec)
        frames, fps = spec.frames, spec.fps
        self.path = np.full((frames, 2), np.nan)
        visits = int(rng.integers(1, 4)) + int(spec.duration_s // 12)
        for _ in range(visits):
            start = int(rng.integers(0, max(1, frames - round(fps))))
            stop = min(frames, start + int(rng.uniform(1.5, 6.0) * fps))
            p = np.array([rng.uniform(0, spec.width), rng.uniform(0, spec.height)])
            vel = rng.normal(0, 250 * sc, 2)
            for k in range(start, stop):
                vel = 0.8 * vel + rng.normal(0, 260 * sc, 2)
                speed = np.linalg.norm(vel)
                vel *= np.clip(speed, 100 * sc, 700 * sc) / max(speed, 1e-6)
                p = p + vel / fps
                self.path[k] = p
        self.sprite = blob_sprite(max(6.0, rng.uniform(20, 80) * sc))
        bright = spec.night  # by night the camera's infrared lamps light it up
        self.colour = np.array([200, 200, 200] if bright else [20, 20, 22], np.float32)
        self.strength = rng.uniform(0.35, 0.7)
        self.flicker = rng.uniform(8, 20)

    def draw(self, frame: np.ndarray, i: int) -> None:
        if i >= len(self.path) or np.isnan(self.path[i, 0]):
            return
        beat = 1 + 0.15 * math.sin(2 * math.pi * self.flicker * i / self.spec.fps)
        blend_sprite(
            frame,
            self.sprite,
            float(self.path[i, 0]),
            float(self.path[i, 1]),
            self.colour,
            self.strength * beat,
        )


class Lights(Actor):
    """Windows switching on and off: each listed window shows the other picture of the facade (its
    light flipped) while it has switched an odd number of times."""

    def __init__(
        self,
        spec: SceneSpec,
        rng: np.random.Generator,
        flipped: np.ndarray,
        windows: list[tuple[int, int, int, int, np.ndarray]],
    ):
        self.spec, self.flipped, self.windows = spec, flipped, windows
        self.switches: list[np.ndarray] = []
        for _ in windows:  # every window switches at least once within the clip
            gap = rng.uniform(2, 10)
            first = rng.uniform(0.2, max(0.3, min(gap, spec.duration_s - 0.2)))
            self.switches.append(first + np.concatenate([[0.0], np.cumsum(rng.exponential(gap, 11))]))

    def draw(self, frame: np.ndarray, i: int) -> None:
        t = i / self.spec.fps
        for (x0, y0, x1, y1, mask), times in zip(self.windows, self.switches, strict=True):
            if int(np.searchsorted(times, t, side="right")) % 2:
                np.copyto(frame[y0:y1, x0:x1], self.flipped[y0:y1, x0:x1], where=mask[..., None])


class Clouds(Actor):
    """Cloud patches drifting across the open sky (only where the sky mask is open). Drawn first, on
    the bare still picture, so a drift of under a quarter pixel since the last frame reuses it."""

    def __init__(
        self,
        spec: SceneSpec,
        layer: np.ndarray,
        speed_px_s: float,
        colour: tuple[int, int, int],
        sky: np.ndarray,
    ):
        self.spec, self.layer, self.speed = spec, layer, speed_px_s
        rows = np.nonzero(sky.max(axis=1) > 0)[0]
        self.rows = (int(rows[0]), int(rows[-1]) + 1) if len(rows) else (0, 0)
        r0, r1 = self.rows
        self.sky = sky[r0:r1]
        self.cloud = np.empty((r1 - r0, spec.width, 3), np.uint8)
        self.cloud[:] = colour
        self.last: tuple[float, np.ndarray] | None = None

    def draw(self, frame: np.ndarray, i: int) -> None:
        r0, r1 = self.rows
        if r1 <= r0:
            return
        w = self.spec.width
        travel = round(4 * self.speed * i / self.spec.fps) / 4
        if self.last is not None and self.last[0] == travel:
            frame[r0:r1] = self.last[1]
            return
        start = travel if self.speed >= 0 else self.layer.shape[1] - w - 1 + travel
        x = int(np.clip(math.floor(start), 0, self.layer.shape[1] - w - 1))
        frac = float(np.clip(start - x, 0, 1))
        a = cv2.addWeighted(
            self.layer[r0:r1, x : x + w], 1 - frac, self.layer[r0:r1, x + 1 : x + w + 1], frac, 0
        )
        a = cv2.multiply(a, self.sky, scale=1 / 255).astype(np.float32) * (1 / 255)
        band = frame[r0:r1]
        band[:] = cv2.blendLinear(self.cloud, band, a, 1 - a)
        self.last = (travel, band.copy())


def shake_offsets(spec: SceneSpec, rng: np.random.Generator) -> np.ndarray:
    """Each frame's (dx, dy) translation: 1–3 bursts of 1–3 s jitter, 1–4 px at 1080 lines."""
    offsets = np.zeros((spec.frames, 2))
    amp_floor = 0.5
    for _ in range(int(rng.integers(1, 4)) + int(spec.duration_s // 15)):
        start = int(rng.integers(0, spec.frames))
        stop = min(spec.frames, start + int(rng.uniform(1, 3) * spec.fps))
        amp = max(amp_floor, rng.uniform(1, 4) * _scale(spec))
        o = np.zeros(2)
        for k in range(start, stop):
            o = np.clip(0.4 * o + rng.normal(0, 0.8 * amp, 2), -amp, amp)
            offsets[k] = o
    return offsets


def apply_shake(frame: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """The frame moved by ``offset`` pixels (sub-pixel, edges repeated)."""
    if not offset.any():
        return frame
    m = np.array([[1, 0, offset[0]], [0, 1, offset[1]]], np.float32)
    return cv2.warpAffine(
        frame, m, (frame.shape[1], frame.shape[0]), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


class Noise:
    """Sensor noise of ``sigma`` grey levels: a few noise pictures made once, a random window of one
    of them added to each frame (drawing fresh normal noise for every 1080p frame is too slow)."""

    _PAD = 32

    def __init__(self, spec: SceneSpec, rng: np.random.Generator, sigma: float):
        self.rng, self.spec = rng, spec
        shape = (spec.height + self._PAD, spec.width + self._PAD, 3)
        self.pictures = []
        for _ in range(3):
            n = rng.normal(0, sigma, shape).astype(np.float32)
            n[..., 1:] = 0.5 * n[..., 1:] + 0.5 * n[..., :1]  # mostly luma noise, some colour
            self.pictures.append((np.clip(n, 0, 255).astype(np.uint8), np.clip(-n, 0, 255).astype(np.uint8)))

    def apply(self, frame: np.ndarray) -> None:
        up, down = self.pictures[int(self.rng.integers(len(self.pictures)))]
        dx, dy = (int(x) for x in self.rng.integers(0, self._PAD, 2))
        h, w = self.spec.height, self.spec.width
        cv2.add(frame, up[dy : dy + h, dx : dx + w], dst=frame)
        cv2.subtract(frame, down[dy : dy + h, dx : dx + w], dst=frame)
