"""A generated thrown-object scene (vision.throws.synth) to play as a camera: small (640×360, 5 s,
one bottle thrown from floor 15 in daylight, landing 3.5 s in) so that a test reads it in real
time within seconds. Importable from any test folder."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jingwu.vision.throws.synth import write_scene
from jingwu.vision.throws.synth_sample import random_scene

SEED = 7
_CACHE: dict[tuple[int, int, int], Path] = {}


@dataclass(frozen=True, slots=True)
class Scene:
    video: Path
    calibration: dict[str, Any]
    truth: dict[str, Any]

    @property
    def throw(self) -> dict[str, Any]:
        return dict(self.truth["throws"][0])


def throw_scene(folder: Path, *, seed: int = SEED, width: int = 640, height: int = 360) -> Scene:
    """The scene's video, calibration and ground truth in ``folder`` (drawn once per test run,
    copied after that)."""
    folder.mkdir(parents=True, exist_ok=True)
    key = (seed, width, height)
    name = f"throw-{seed}-{height}p"
    if key not in _CACHE or not (_CACHE[key] / f"{name}.mp4").exists():
        spec = random_scene(
            seed,
            width=width,
            height=height,
            fps=25.0,
            duration_s=5.0,
            throws=1,
            distractors=(),
            night=False,
            kinds=("bottle",),
        )
        write_scene(spec, folder, name)
        _CACHE[key] = folder
    elif _CACHE[key] != folder:
        for suffix in (".mp4", ".truth.json", ".calibration.json"):
            shutil.copy(_CACHE[key] / f"{name}{suffix}", folder / f"{name}{suffix}")
    return Scene(
        video=folder / f"{name}.mp4",
        calibration=json.loads((folder / f"{name}.calibration.json").read_text(encoding="utf-8")),
        truth=json.loads((folder / f"{name}.truth.json").read_text(encoding="utf-8")),
    )


__all__ = ["SEED", "Scene", "throw_scene"]
