"""``jingwu throws detect`` (a video file through the thrown-object detector) and ``jingwu throws
generate`` (labelled test scenes): docs/throws.md. Neither touches the database."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    throws = commands.add_parser("throws", help="high-altitude thrown-object detection (高空抛物)")
    kinds = throws.add_subparsers(dest="throws_command", required=True)
    p = kinds.add_parser(
        "detect",
        help="find objects thrown from a building in a video, with floor and window",
        description="Reads every frame of VIDEO and prints each throw: the first frame it was seen, "
        "the floor (1 = ground floor) and window column (1 = leftmost in the picture) it came from, "
        "and its track. CAL.json is the facade's calibration in the video's pixels (docs/throws.md).",
    )
    p.add_argument("video", type=Path)
    p.add_argument("--calibration", type=Path, required=True, metavar="CAL.json")
    p.add_argument("--json", action="store_true", help="one JSON object on standard output")
    p.set_defaults(func=detect)

    p = kinds.add_parser(
        "generate",
        help="write labelled test scenes (video, ground truth, calibration)",
        description="Procedural towers seen from their foot, with throws from known windows and "
        "distractors (birds, leaves, rain, lights, shake, night noise): NAME.mp4, NAME.truth.json "
        "and NAME.calibration.json for each scene.",
    )
    p.add_argument("out_dir", type=Path)
    p.add_argument("--count", type=int, default=4)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--width", type=int, default=1280)
    p.add_argument("--height", type=int, default=720)
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--negative", action="store_true", help="distractors only, no throws")
    p.set_defaults(func=generate)


def detect(args: argparse.Namespace) -> int:
    from jingwu.vision.throws.calibration import load_calibration
    from jingwu.vision.throws.scan import scan_video

    calibration = load_calibration(args.calibration)
    result = scan_video(args.video, calibration)
    if args.json:
        json.dump(result.to_json(), sys.stdout, ensure_ascii=False)
        print()
        return 0
    print(
        f"{result.video}: {result.frames} frames at {result.fps:g} fps, "
        f"read at {result.processing_fps:.0f} frames/s; {len(result.events)} throw(s)"
    )
    for event in result.events:
        floor = "unknown floor" if event.floor is None else f"floor {event.floor}"
        column = "unknown window" if event.column is None else f"window column {event.column}"
        print(
            f"  frame {event.frame} ({event.t_s:.2f} s): {floor} (±{event.floor_uncertainty:.1f}), "
            f"{column}, confidence {event.confidence:.2f}, {len(event.track)} points"
        )
    return 0


def generate(args: argparse.Namespace) -> int:
    from jingwu.vision.throws.synth import random_scene, write_scene

    if args.count < 1 or args.width < 160 or args.height < 120 or args.seconds <= 0:
        print("error: --count ≥ 1, --width ≥ 160, --height ≥ 120 and --seconds > 0", file=sys.stderr)
        return 2
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for i in range(args.count):
        spec = random_scene(
            args.seed + i,
            width=args.width,
            height=args.height,
            duration_s=args.seconds,
            throws=0 if args.negative else None,
        )
        path = write_scene(spec, args.out_dir, f"scene-{args.seed + i:04d}")
        print(path)
    return 0


__all__ = ["register"]
