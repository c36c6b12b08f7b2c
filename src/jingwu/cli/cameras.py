"""``camera-add``, ``camera-import``, ``camera-list`` and ``camera-calibrate``: the camera
registry from the command line (docs/video.md, docs/throws.md). A new camera's stream is looked at
first (reachable, the password right, H.264), as the API does; ``--no-probe`` registers one not
installed yet."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path

from jingwu.cli.context import SOURCE, open_services, os_user
from jingwu.domain.cameras import CameraKind, CameraOwner
from jingwu.errors import ValidationFailed

_OSM_HELP = "OSM PBF of the city (default: the bundled Harbin extract)"


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "camera-add",
        help="register a camera (fixed, body or drone) after looking at its stream",
        description="Register a camera. A fixed camera needs --lat/--lon and --heading (its field of "
        "view defaults to 90 degrees over 60 m); a body camera or drone needs --unit. Credentials "
        "may be in the URL (rtsp://user:password@host/...): they are sealed and never shown.",
    )
    p.add_argument("name")
    p.add_argument("--url", required=True, help="rtsp://, rtsps://, http(s):// or file://")
    p.add_argument(
        "--user",
        help="the stream's user name; its password is then read from standard input (a prompt on a "
        "terminal), never from the command line, where others on the host could read it",
    )
    p.add_argument("--kind", choices=[str(k) for k in CameraKind], default="fixed")
    p.add_argument("--owner", choices=[str(o) for o in CameraOwner], default="police")
    p.add_argument("--lat", type=float)
    p.add_argument("--lon", type=float)
    p.add_argument("--heading", type=float, help="degrees clockwise from north")
    p.add_argument("--fov", type=float, help="horizontal field of view in degrees (default 90)")
    p.add_argument(
        "--range", type=float, dest="range_m", help="metres it shows something useful (default 60)"
    )
    p.add_argument("--height", type=float, help="mounting height in metres (default 6)")
    p.add_argument("--tilt", type=float, help="degrees, negative looking down (default -15)")
    p.add_argument("--unit", help="a body camera's or a drone's unit id")
    p.add_argument("--community")
    p.add_argument("--station", help="default: the station of its place (or unit)")
    p.add_argument("--no-probe", action="store_true", help="register without looking at the stream")
    p.add_argument("--osm", help=_OSM_HELP)
    p.set_defaults(func=camera_add)

    p = commands.add_parser(
        "camera-import",
        help="register many cameras from a CSV or GeoJSON file (all or none)",
        description="CSV header: name,kind,stream_url,owner,lat,lon,heading_deg,fov_deg,range_m,height_m,"
        "tilt_deg,unit_id,community,station_id; or a GeoJSON FeatureCollection of points with those "
        "properties. Every bad line is named and nothing is registered if one is bad.",
    )
    p.add_argument("file", type=Path)
    p.add_argument("--probe", action="store_true", help="look at every stream first")
    p.add_argument("--osm", help=_OSM_HELP)
    p.set_defaults(func=camera_import)

    p = commands.add_parser("camera-list", help="the registered cameras and their state, as JSON lines")
    p.add_argument("--osm", help=_OSM_HELP)
    p.set_defaults(func=camera_list)

    p = commands.add_parser(
        "camera-calibrate",
        help="set (or remove) the facade a fixed camera watches for thrown objects (高空抛物)",
        description='The calibration file is JSON: {"facade": {"corners_px": [[u, v] x4: bottom-left, '
        'bottom-right, top-right, top-left], "floors", "columns", "floor_height_m", optionally '
        '"column_centres" and "protrusion_depth_m"}}. Checked as the API checks it.',
    )
    p.add_argument("camera_id")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--calibration", type=Path, help="the calibration's JSON file")
    which.add_argument("--remove", action="store_true", help="stop watching the camera for thrown objects")
    p.add_argument("--osm", help=_OSM_HELP)
    p.set_defaults(func=camera_calibrate)


def camera_add(args: argparse.Namespace) -> int:
    from jingwu.domain.cameras import StreamCredentials, split_stream_url, stream_url_with
    from jingwu.service.video import camera_view

    url = args.url
    if args.user:
        password = (
            getpass.getpass(f"password of {args.user}: ") if sys.stdin.isatty() else sys.stdin.readline()
        )
        bare, _ = split_stream_url(url)
        url = stream_url_with(bare, StreamCredentials(args.user, password.rstrip("\n")))

    fields = {
        "name": args.name,
        "kind": args.kind,
        "stream_url": url,
        "owner": args.owner,
        "lat": args.lat,
        "lon": args.lon,
        "heading_deg": args.heading,
        "fov_deg": args.fov,
        "range_m": args.range_m,
        "height_m": args.height,
        "tilt_deg": args.tilt,
        "unit_id": args.unit,
        "community": args.community,
        "station_id": args.station,
    }
    with open_services(args) as services:
        camera = services.video.add(fields, actor=os_user(), source=SOURCE, probe=not args.no_probe)
    view = camera_view(camera)
    print(
        f"camera {camera.id} registered: {camera.name} "
        f"({camera.kind}, station {camera.station_id or 'none'}); "
        f"stream {view['stream_url']}{' (credentials sealed)' if camera.has_credentials else ''}"
    )
    return 0


def camera_import(args: argparse.Namespace) -> int:
    from jingwu.service.video.imports import parse_cameras

    suffix = args.file.suffix.lower()
    media = "text/csv" if suffix == ".csv" else "application/geo+json"
    try:
        text = args.file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"jingwu: cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    with open_services(args) as services:
        try:
            specs = parse_cameras(text, media, services.video.registry.checked)
        except ValidationFailed as exc:
            print(f"error: {exc.message}", file=sys.stderr)
            for error in exc.params.get("errors", []):
                print(f"  line {error['line']}: {error['message']}", file=sys.stderr)
            return 2
        cameras = services.video.add_many(specs, actor=os_user(), source=SOURCE, probe=args.probe)
    print(f"{len(cameras)} cameras registered from {args.file}")
    return 0


def camera_list(args: argparse.Namespace) -> int:
    from jingwu.service.video import camera_view

    with open_services(args) as services:
        for camera in services.video.cameras():
            print(json.dumps(camera_view(camera), ensure_ascii=False))
    return 0


def camera_calibrate(args: argparse.Namespace) -> int:
    data = None
    if args.calibration is not None:
        try:
            data = json.loads(args.calibration.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            print(f"jingwu: cannot read {args.calibration} as JSON: {exc}", file=sys.stderr)
            return 2
    with open_services(args) as services:
        throws = services.video.throws
        if data is None:
            camera = throws.uncalibrate(args.camera_id, actor=os_user(), source=SOURCE)
            print(f"camera {camera.id} ({camera.name}) is no longer watched for thrown objects")
            return 0
        camera = throws.calibrate(args.camera_id, data, actor=os_user(), source=SOURCE)
    facade = (camera.throw_calibration or {}).get("facade", {})
    print(
        f"camera {camera.id} ({camera.name}) watches a facade of {facade.get('floors')} floors and "
        f"{facade.get('columns')} window columns for thrown objects"
    )
    return 0


__all__ = ["register"]
