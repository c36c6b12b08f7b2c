"""The demo city's cameras: eight fixed cameras at four busy places of central Harbin, each
replaying a generated test clip (moving shapes, a burned-in clock) as its stream, so that
the console's live views, clips and coverage show something on a machine with no camera."""

from __future__ import annotations

import logging
from pathlib import Path

from jingwu.composition import Services
from jingwu.video.testsrc import write_test_video

log = logging.getLogger(__name__)

#: (name, lat, lon): places the demo's calls cluster around; two cameras each, looking both ways.
PLACES = (
    ("哈尔滨站广场", 45.7606, 126.6292),
    ("中央大街", 45.7727, 126.6170),
    ("博物馆广场", 45.7539, 126.6398),
    ("秋林", 45.7557, 126.6523),
)
CLIP_SECONDS = 20.0


def seed_demo_cameras(services: Services) -> int:
    """Register the demo's cameras on the first start (none registered yet); how many were added.
    The clips are made once, in the folder file streams may be read from."""
    if services.video.cameras():
        return 0
    folder = services.settings.resolved_video_file_dir
    folder.mkdir(parents=True, exist_ok=True)
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


__all__ = ["PLACES", "seed_demo_cameras"]
