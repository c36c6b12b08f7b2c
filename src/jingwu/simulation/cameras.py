"""The demo city's cameras: eight fixed cameras at four busy places of central Harbin, each
replaying a generated test clip (moving shapes, a burned-in clock) as its stream, so that
the console's live views, clips and coverage show something on a machine with no camera; and one
at the foot of a residential tower, calibrated for thrown objects (高空抛物), replaying a generated
scene in which a bag falls from the 10th floor 20 s into every 40 s loop, so that the detection
shows its alert, incident, snapshot and evidence clip."""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from jingwu.composition import Services
from jingwu.video.testsrc import write_test_video

if TYPE_CHECKING:
    from jingwu.vision.throws.synth_scene import SceneSpec

log = logging.getLogger(__name__)

#: (name, lat, lon): places the demo's calls cluster around; two cameras each, looking both ways.
PLACES = (
    ("哈尔滨站广场", 45.7606, 126.6292),
    ("中央大街", 45.7727, 126.6170),
    ("博物馆广场", 45.7539, 126.6398),
    ("秋林", 45.7557, 126.6523),
)
CLIP_SECONDS = 20.0

#: The thrown-object camera: at the foot of a tower of 外侨花园 (南岗区, by 博物馆广场), looking north
#: and up at its south face.
THROW_CAMERA = {
    "name": "外侨花园 3号楼 楼下（高空抛物演示 / thrown-object demo）",
    "community": "外侨花园",
    "lat": 45.75505,
    "lon": 126.64411,
    "heading_deg": 0.0,
}
#: The scene it replays (vision.throws.synth): seed 350 at 640×360 is an 11-storey tower seen from
#: 21 m, a bag of 5 px thrown from floor 10, window column 5, found there by the detector at
#: confidence 0.88; by day with slow clouds and nothing else that moves, so no false alarm.
THROW_SEED = 350
THROW_CLIP_SECONDS = 40.0
THROW_LAUNCH_S = 20.0
THROW_NAME = f"demo-throw-{THROW_SEED}"


def seed_demo_cameras(services: Services, *, wait: bool = False) -> int:
    """Register the demo's cameras on the first start (none registered yet), and the
    thrown-object camera whenever no camera replays its scene (a demo begun before it had one
    gets it too); how many were added. The clips are made once, in the folder file streams may
    be read from; the thrown-object clip in the background unless ``wait``."""
    folder = services.settings.resolved_video_file_dir
    folder.mkdir(parents=True, exist_ok=True)
    cameras = services.video.cameras()
    added = 0 if cameras else _seed_street_cameras(services, folder)
    throw_url = f"file://{folder / THROW_NAME}.mp4"
    if not any(c.stream_url == throw_url for c in cameras):
        added += _seed_throw_camera(services, folder, wait=wait)
    return added


def _seed_street_cameras(services: Services, folder: Path) -> int:
    """The eight street cameras, two at each of :data:`PLACES`, replaying two clips between them."""
    clips: list[Path] = []
    for i in range(2):
        path = folder / f"demo-street-{i}.mp4"
        if not path.exists():
            write_test_video(path, seconds=CLIP_SECONDS, start_ms=i * 37_000)
        clips.append(path)
    fields = []
    for n, (name, lat, lon) in enumerate(PLACES):
        for k, heading in enumerate((0.0, 180.0)):
            fields.append(
                {
                    "name": f"{name} {'北向' if heading == 0 else '南向'}",
                    "kind": "fixed",
                    "stream_url": f"file://{clips[(n + k) % len(clips)]}",
                    "owner": "police",
                    "lat": lat,
                    "lon": lon,
                    "heading_deg": heading,
                    "fov_deg": 90.0,
                    "range_m": 120.0,
                    "height_m": 8.0,
                }
            )
    from jingwu.service.video.registry import spec_from_fields

    added = services.video.add_many(
        [spec_from_fields(f) for f in fields], actor="demo", source="demo", probe=False
    )
    log.info("registered %d demo cameras", len(added))
    return len(added)


def throw_spec() -> SceneSpec:
    """The thrown-object scene, from its seed: the generator's random scene with its one throw
    moved to 20 s in, so that a new user sees the tower quiet before it."""
    from jingwu.vision.throws.synth import random_scene

    spec = random_scene(
        THROW_SEED,
        width=640,
        height=360,
        fps=25.0,
        duration_s=THROW_CLIP_SECONDS,
        throws=1,
        distractors=("clouds",),
        night=False,
        kinds=("box", "bag"),
    )
    return replace(spec, throws=tuple(replace(t, launch_t_s=THROW_LAUNCH_S) for t in spec.throws))


def draw_throw_scene(folder: Path) -> Path:
    """Write the scene's clip, truth and calibration into ``folder`` unless the clip is there;
    the clip's path. Drawn in a folder of its own and moved in, the clip last, so that a start
    cut short while drawing leaves no half clip to be taken as whole, and no reader opens one."""
    from jingwu.vision.throws.synth import write_scene

    video = folder / f"{THROW_NAME}.mp4"
    if video.exists():
        return video
    started = time.perf_counter()
    drawing = folder / f".{THROW_NAME}.drawing"
    shutil.rmtree(drawing, ignore_errors=True)
    write_scene(throw_spec(), drawing, THROW_NAME)
    for suffix in (".truth.json", ".calibration.json", ".mp4"):
        os.replace(drawing / f"{THROW_NAME}{suffix}", folder / f"{THROW_NAME}{suffix}")
    drawing.rmdir()
    log.info("drew the thrown-object demo clip in %.1f s", time.perf_counter() - started)
    return video


def _draw_logged(folder: Path) -> None:
    try:
        draw_throw_scene(folder)
    except Exception:  # a thread's exception is otherwise lost; the demo goes on without the clip
        log.exception("the thrown-object demo clip could not be drawn")


def _seed_throw_camera(services: Services, folder: Path, *, wait: bool) -> int:
    """The thrown-object camera, registered and calibrated with the generator's calibration
    through the service call ``PUT /api/cameras/{id}/calibration`` makes. Its clip (5–8 s
    of drawing on this machine) is drawn on a thread of its own unless kept from an earlier start, so
    that the demo does not wait for it: the camera's worker tries the file again every few
    seconds and plays it once it is there."""
    from jingwu.service.video.registry import spec_from_fields
    from jingwu.vision.throws.synth_scene import calibration

    spec = throw_spec()
    video = folder / f"{THROW_NAME}.mp4"
    fields = {
        **THROW_CAMERA,
        "kind": "fixed",
        "stream_url": f"file://{video}",
        "owner": "property",
        # The scene's camera: 2.8 m up, 21 m from the wall, an 82° lens tilted up 28°.
        "fov_deg": round(spec.camera.hfov_deg),
        "range_m": 40.0,
        "height_m": round(spec.camera.height_m, 1),
        "tilt_deg": round(spec.camera.tilt_deg),
    }
    [camera] = services.video.add_many([spec_from_fields(fields)], actor="demo", source="demo", probe=False)
    services.video.throws.calibrate(camera.id, calibration(spec), actor="demo", source="demo")
    log.info("registered the thrown-object demo camera %s", camera.id)
    if not video.exists():
        drawing = threading.Thread(target=_draw_logged, args=(folder,), name="demo-throw-clip", daemon=True)
        drawing.start()
        if wait:
            drawing.join()
    return 1


__all__ = ["PLACES", "THROW_CAMERA", "THROW_NAME", "draw_throw_scene", "seed_demo_cameras", "throw_spec"]
