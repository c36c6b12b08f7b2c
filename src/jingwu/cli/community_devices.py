"""``device-register`` and ``device-secret``: the community's alarm columns, door readers and
vehicle gates, which publish signed messages over MQTT (docs/devices.md). Registering one places
it on the road network, so these commands load the services."""

from __future__ import annotations

import argparse

from jingwu.cli.context import SOURCE, open_services, os_user
from jingwu.domain.devices import DeviceKind
from jingwu.domain.gcj02 import gcj02_point_to_wgs84
from jingwu.domain.geo import GeoPoint

_OSM_HELP = "OSM PBF of the city (default: the bundled Harbin extract)"


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "device-register",
        help="register a community device that reports over MQTT (prints its secret once)",
        description="Register an alarm column, door reader or vehicle gate of a community at the "
        "place it stands (within JINGWU_MAX_SNAP_DISTANCE_M of a road). It publishes signed "
        "messages to the broker of JINGWU_MQTT_URL; see docs/devices.md.",
    )
    p.add_argument("id", help="its id in its topics: 3-48 of a-z, 0-9, '-', '_'")
    p.add_argument("kind", choices=[str(k) for k in DeviceKind])
    p.add_argument("--community", required=True, help="the community (小区/社区) it serves")
    p.add_argument("--lat", type=float, required=True)
    p.add_argument("--lon", type=float, required=True)
    p.add_argument(
        "--crs", choices=["wgs84", "gcj02"], default="wgs84", help="of --lat/--lon (default wgs84)"
    )
    p.add_argument("--address")
    p.add_argument("--heartbeat", type=int, default=60, help="its heartbeat interval in seconds (default 60)")
    p.add_argument("--osm", help=_OSM_HELP)
    p.set_defaults(func=device_register)

    p = commands.add_parser(
        "device-secret",
        help="issue a new secret for a community device (prints it once; the old one stops working)",
    )
    p.add_argument("id")
    p.add_argument("--osm", help=_OSM_HELP)
    p.set_defaults(func=device_secret)


def _print_secret(device_id: str, secret: str, *, new: str | None) -> None:
    print(
        (f"community device {device_id} ({new})" if new else f"new secret for community device {device_id}")
        + ". Its secret is shown only this once:\n"
        f"  {secret}\n"
        "Configure it in the device, which signs every message with it (HMAC-SHA256) and publishes "
        f"to jingwu/v1/devices/{device_id}/{{alarm|access|heartbeat}} (docs/devices.md)."
        + ("" if new else " The old secret no longer works; the device's counter may start again at 1.")
        + f" If it is lost, `jingwu device-secret {device_id}` issues a new one."
    )


def device_register(args: argparse.Namespace) -> int:
    """Register a community device; its secret is printed once."""
    # Loaded here, not at the top: it brings the road network's code, which `jingwu --help` and
    # the other commands do without.
    from jingwu.service.community_devices import NewDevice

    point = gcj02_point_to_wgs84(args.lat, args.lon) if args.crs == "gcj02" else GeoPoint(args.lat, args.lon)
    with open_services(args) as services:
        new = NewDevice(
            args.id,
            DeviceKind(args.kind),
            args.community,
            point,
            address=args.address,
            heartbeat_s=args.heartbeat,
        )
        device, secret = services.community_devices.register(new, actor=os_user(), source=SOURCE)
    _print_secret(device.id, secret, new=f"{device.kind}, station {device.station_id or 'none: the city'}")
    return 0


def device_secret(args: argparse.Namespace) -> int:
    """A new secret for a community device (lost, leaked, a new controller); printed once."""
    with open_services(args) as services:
        secret = services.community_devices.issue_secret(args.id, actor=os_user(), source=SOURCE)
    _print_secret(args.id, secret, new=None)
    return 0


__all__ = ["register"]
