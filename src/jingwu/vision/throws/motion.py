"""Moving pixels in the watched part of the picture, as small blobs: the detector's eyes.

A falling cigarette end is 3 px and crosses the picture in a second, so nothing here shrinks the
picture: each frame is box-filtered (a 3×3 matched filter for small objects, which cuts sensor
noise by three), compared with a slowly learnt background *and* with the frame three before
(a light switched on, or an object come to rest, stops counting after three frames), and the
threshold follows the measured noise. Shake is taken out first by phase correlation."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: The background learns this much of each frame it is shown (every second frame).
BACKGROUND_RATE = 0.06
#: Difference over the background, in noise standard deviations (of the filtered picture).
THRESHOLD_SIGMAS = 4.5
MIN_THRESHOLD = 7.0
#: Frames back for the "is it still moving" comparison.
RECENT_GAP = 3
#: More than this share of the watched picture changing at once is not an object: the exposure
#: changed, the lights of a whole floor, a shake the stabiliser missed. The frame is skipped.
SCENE_CHANGE_SHARE = 0.04
#: Shake smaller than this is left alone (warping costs more than it gains).
MIN_SHIFT_PX = 0.3
#: More than this (pixels) is not shake but the camera turned, or a measurement gone wrong.
MAX_SHIFT_PX = 40.0
STABILISE_SCALE = 2
#: Gauss-Newton steps after phase correlation, and the border (pixels of the halved picture) they
#: leave out, where a shifted picture repeats its edge.
REFINE_STEPS = 2
REFINE_MARGIN_PX = 12
#: The steps' gradients are taken anew after the reference has followed the wall this many times.
REGRADIENT_BLENDS = 25
#: The measuring region is at most this big (pixels a side): enough wall, a small Fourier transform.
MAX_ANCHOR_PX = 720
#: Share of a pixel's 3×3 range added to its threshold: still (compression jitters edges a
#: little) and while the camera shakes (and for a second after).
STILL_EDGE_WEIGHT = 0.08
SHAKE_EDGE_WEIGHT = 0.7
SHAKE_HOLD_FRAMES = 25
#: Frames in which the background is only learnt (its first picture may hold anything).
WARM_UP_FRAMES = 10
#: At most this many blobs a frame go on to the tracker (the strongest).
MAX_BLOBS = 200
#: A wall smaller than this (pixels a side) in the picture is too little to measure shake on.
MIN_ANCHOR_PX = 64


@dataclass(frozen=True, slots=True)
class Blob:
    """One moving thing in one frame, in full-picture pixels."""

    u: float
    v: float
    area: int
    width: int
    height: int
    contrast: float


class MotionFinder:
    """Fed the frames of one camera in order (grey, full size); gives each frame's blobs."""

    def __init__(
        self,
        mask: np.ndarray,
        anchor: tuple[int, int, int, int] | None = None,
        wall: np.ndarray | None = None,
    ) -> None:
        """``mask``: the watched pixels (255); ``anchor``: a box (x0, y0, x1, y1) of the picture
        around the wall, to measure shake on; ``wall``: the pixels (255) in it that do not move but
        for shake — not the sky, whose clouds drift (all of the box without it)."""
        ys, xs = np.nonzero(mask)
        if len(xs) == 0:
            raise ValueError("the watched part of the picture is empty")
        self.x0, self.y0 = int(xs.min()), int(ys.min())
        self.x1, self.y1 = int(xs.max()) + 1, int(ys.max()) + 1
        self.mask = np.ascontiguousarray(mask[self.y0 : self.y1, self.x0 : self.x1])
        self.anchor: tuple[int, int, int, int] | None = None
        if anchor is not None:
            ax0, ay0 = max(anchor[0] - self.x0, 0), max(anchor[1] - self.y0, 0)
            ax1, ay1 = (
                min(anchor[2] - self.x0, self.x1 - self.x0),
                min(anchor[3] - self.y0, self.y1 - self.y0),
            )
            if ax1 - ax0 > MAX_ANCHOR_PX:
                ax0 += (ax1 - ax0 - MAX_ANCHOR_PX) // 2
                ax1 = ax0 + MAX_ANCHOR_PX
            if ay1 - ay0 > MAX_ANCHOR_PX:
                ay0 += (ay1 - ay0 - MAX_ANCHOR_PX) // 2
                ay1 = ay0 + MAX_ANCHOR_PX
            if ax1 - ax0 >= MIN_ANCHOR_PX and ay1 - ay0 >= MIN_ANCHOR_PX:
                self.anchor = (ax0, ay0, ax1, ay1)
        self.wall = wall
        self.watched = int(np.count_nonzero(self.mask))
        self.background: np.ndarray | None = None
        self.recent: list[np.ndarray] = []
        self.reference: np.ndarray | None = None
        self.noise = 2.0
        self.count = 0
        self.shift = (0.0, 0.0)
        self.shaken_at = -(10**6)
        self.edges: np.ndarray | None = None
        self.skipped = 0
        self._gradients: tuple[np.ndarray, ...] | None = None  # what the Gauss-Newton steps reuse
        self._blends = 0

    def _stabilise(self, crop: np.ndarray) -> np.ndarray:
        """The (filtered) crop moved back onto the reference picture (camera shake is a
        translation here). Every fourth pixel is enough to measure it: the filter has smoothed
        the picture already."""
        h, w = crop.shape
        if self.anchor is None:
            return crop
        ax0, ay0, ax1, ay1 = self.anchor
        region = crop[ay0:ay1, ax0:ax1]
        # Averaged down, not sampled (a window grid sampled aliases into a pattern that phase
        # correlation locks on to), and only by two: OpenCV's sub-pixel peak is biased by up to
        # half a pixel, which four times smaller made two pixels of false shake.
        small = cv2.resize(
            region,
            ((ax1 - ax0) // STABILISE_SCALE, (ay1 - ay0) // STABILISE_SCALE),
            interpolation=cv2.INTER_AREA,
        ).astype(np.float32)
        if self.reference is None or self.reference.shape != small.shape:
            self.reference = small
            self._gradients = None
            self._weights = self._wall_weights(small.shape)
            # The wall's outline softened: clouds beside it must not pull the correlation's peak.
            soft = cv2.GaussianBlur(self._weights, (0, 0), 6)
            self.window = cv2.createHanningWindow((small.shape[1], small.shape[0]), cv2.CV_32F) * soft
            return crop
        # Copies: given a window, OpenCV's phaseCorrelate multiplies both its inputs by it in place.
        (dx, dy), response = cv2.phaseCorrelate(self.reference.copy(), small.copy(), self.window)
        if response < 0.2 or max(abs(dx), abs(dy)) > MAX_SHIFT_PX / STABILISE_SCALE:
            dx, dy = 0.0, 0.0  # no clear peak: the gradient steps below start from still
        dx, dy = self._refine(small, dx, dy)
        if max(abs(dx), abs(dy)) > MAX_SHIFT_PX / STABILISE_SCALE:
            self.shift = (0.0, 0.0)
            return crop
        dx, dy = dx * STABILISE_SCALE, dy * STABILISE_SCALE
        self.shift = (dx, dy)
        if max(abs(dx), abs(dy)) < MIN_SHIFT_PX:
            # Still: the reference follows the slow changes of the wall (light, shadows).
            cv2.accumulateWeighted(small, self.reference, 0.02)
            self._blends += 1
            if self._blends >= REGRADIENT_BLENDS:
                self._gradients, self._blends = None, 0
            return crop
        self.shaken_at = self.count
        matrix = np.array([[1, 0, -dx], [0, 1, -dy]], dtype=np.float32)
        return cv2.warpAffine(crop, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    def _wall_weights(self, shape: tuple[int, ...]) -> np.ndarray:
        """1 on the wall, 0 elsewhere, at the measuring picture's size."""
        h, w = shape
        if self.wall is None or self.anchor is None:
            return np.ones((h, w), np.float32)
        ax0, ay0, ax1, ay1 = self.anchor
        region = self.wall[self.y0 + ay0 : self.y0 + ay1, self.x0 + ax0 : self.x0 + ax1]
        small = cv2.resize(region, (w, h), interpolation=cv2.INTER_AREA)
        weights = (small >= 255).astype(np.float32)
        # Too little wall in the box to go by: the whole box, as before (its clouds weigh little).
        return weights if weights.mean() >= 0.15 else np.ones((h, w), np.float32)

    def _refine(self, small: np.ndarray, dx: float, dy: float) -> tuple[float, float]:
        """The shift made exact by Gauss-Newton steps on the wall's brightness (Lucas-Kanade, with
        a gain and an offset: the exposure follows the sky): phase correlation's peak is off by
        up to half a pixel, and half a pixel of shake left in makes every edge look like an object."""
        assert self.reference is not None
        if self._gradients is None:
            m = REFINE_MARGIN_PX
            chosen = self._weights[m:-m, m:-m] > 0
            inner = self.reference[m:-m, m:-m]
            gx = cv2.Sobel(self.reference, cv2.CV_32F, 1, 0, ksize=3, scale=0.125)[m:-m, m:-m]
            gy = cv2.Sobel(self.reference, cv2.CV_32F, 0, 1, ksize=3, scale=0.125)[m:-m, m:-m]
            values = inner[chosen]
            jacobian = np.column_stack([gx[chosen], gy[chosen], values - values.mean(), np.ones_like(values)])
            hessian = jacobian.T.astype(np.float64) @ jacobian
            eigen = np.linalg.eigvalsh(hessian)
            if eigen[0] <= 1e-8 * eigen[-1]:
                return dx, dy  # a wall with no texture in one direction: nothing to refine on
            solver = np.ascontiguousarray((np.linalg.inv(hessian) @ jacobian.T).astype(np.float32))
            self._gradients = (chosen, values, solver)
        chosen, values, solver = self._gradients
        m = REFINE_MARGIN_PX
        h, w = small.shape
        for _ in range(REFINE_STEPS):
            moved = cv2.warpAffine(
                small,
                np.array([[1, 0, -dx], [0, 1, -dy]], dtype=np.float32),
                (w, h),
                flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REPLICATE,
            )
            step = solver @ (moved[m:-m, m:-m][chosen] - values)
            dx, dy = dx - float(step[0]), dy - float(step[1])
        return dx, dy

    def push(self, gray: np.ndarray) -> list[Blob]:
        """The blobs moving in this frame (an empty list while it learns, or on a scene change)."""
        self.count += 1
        crop = gray[self.y0 : self.y1, self.x0 : self.x1]
        smooth = self._stabilise(cv2.blur(crop, (3, 3)))
        if self.background is None:
            self.background = smooth.astype(np.float32)
            self.recent = [smooth]
            return []
        background_u8 = cv2.convertScaleAbs(self.background)
        over_background = cv2.absdiff(smooth, background_u8)
        older = self.recent[0]
        over_recent = cv2.absdiff(smooth, older)
        if self.count % 25 == 2 or self.count < 6:
            self._measure_noise(smooth, self.recent[-1])
        threshold = max(MIN_THRESHOLD, THRESHOLD_SIGMAS * self.noise)
        if self.edges is None or self.count % 25 == 0:
            # How much each pixel changes if the picture moves by a pixel: its 3×3 range.
            self.edges = cv2.morphologyEx(background_u8, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
        shaking = self.count - self.shaken_at < SHAKE_HOLD_FRAMES
        # A shake is never taken out exactly (half a pixel left over makes a window's edge look
        # like forty grey levels of change), so edges must change more to count while it lasts.
        weight = SHAKE_EDGE_WEIGHT if shaking else STILL_EDGE_WEIGHT
        limit = cv2.addWeighted(self.edges, weight, self.edges, 0.0, threshold)
        fg_bg = cv2.compare(over_background, limit, cv2.CMP_GT)
        fg_recent = cv2.compare(over_recent, cv2.convertScaleAbs(limit, alpha=0.6), cv2.CMP_GT)
        moving = cv2.bitwise_and(fg_bg, fg_recent)
        moving = cv2.bitwise_and(moving, self.mask)
        self.recent.append(smooth)
        if len(self.recent) > RECENT_GAP:
            self.recent.pop(0)
        changed = cv2.countNonZero(moving)
        if changed > SCENE_CHANGE_SHARE * self.watched:
            # Learn the new scene at once rather than see a thousand objects in it.
            self.background = smooth.astype(np.float32)
            self.skipped += 1
            return []
        if self.count % 2 == 0:
            cv2.accumulateWeighted(smooth, self.background, BACKGROUND_RATE, mask=cv2.bitwise_not(moving))
        if changed == 0 or self.count <= WARM_UP_FRAMES:
            return []
        return self._blobs(moving, over_background)

    def _measure_noise(self, smooth: np.ndarray, previous: np.ndarray) -> None:
        """The filtered picture's noise, from the median frame-to-frame difference (robust to the
        few pixels that really move)."""
        diff = cv2.absdiff(smooth[::4, ::4], previous[::4, ::4])
        watched = diff[self.mask[::4, ::4] > 0]
        if watched.size:
            # median |difference of two N(0, σ²)| = 0.954 σ·√2
            sigma = float(np.median(watched)) / (0.954 * 1.414)
            self.noise = 0.7 * self.noise + 0.3 * max(sigma, 0.5)

    def _blobs(self, moving: np.ndarray, strength: np.ndarray) -> list[Blob]:
        # Outlines, not a labelling of the whole picture: twenty times faster on a sparse mask.
        contours, _ = cv2.findContours(moving, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        blobs = []
        for contour in contours:
            x, y, w, h = cv2.boundingRect(contour)
            if w * h < 2:
                continue  # one pixel alone is noise at any threshold
            patch = moving[y : y + h, x : x + w]
            area = cv2.countNonZero(patch)
            if area < 2:
                continue
            if w <= 3 and h <= 3:
                cu, cv = x + (w - 1) / 2, y + (h - 1) / 2
            else:
                m = cv2.moments(patch, binaryImage=True)
                cu, cv = x + m["m10"] / m["m00"], y + m["m01"] / m["m00"]
            contrast = float(strength[y : y + h, x : x + w].max())
            blobs.append(Blob(cu + self.x0, cv + self.y0, area, w, h, contrast))
        if len(blobs) > MAX_BLOBS:
            # Rain or snow in front of the lens: the strongest few are looked at.
            blobs.sort(key=lambda b: -b.contrast)
            del blobs[MAX_BLOBS:]
        return blobs


__all__ = ["Blob", "MotionFinder"]
