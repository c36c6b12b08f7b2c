"""``jingwu serve`` and ``jingwu demo``: run the platform, on a real city or the simulated one.
The only commands besides ``jingwu migrate`` that bring the schema up to date: a server process
that starts is the one a deployment upgrades with."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from jingwu.cli.context import settings_for
from jingwu.cli.data_lock import hold_data_dir, uses_data_dir_database
from jingwu.cli.output import progress
from jingwu.settings import Settings

if TYPE_CHECKING:
    from jingwu.composition import Services

SERVE_EPILOG = (
    "Log-in policy: `jingwu serve` requires a second factor (TOTP, RFC 6238) of admins, "
    "commanders and dispatchers: JINGWU_REQUIRE_TOTP is on unless the environment sets it (e.g. "
    "JINGWU_REQUIRE_TOTP=false for a trial without authenticator apps). Enrol each such user "
    "first with `jingwu user-totp USERNAME`; they log in with password and code. "
    "`jingwu demo` is always password-only."
)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for name, demo in (("serve", False), ("demo", True)):
        p = commands.add_parser(
            name,
            help="run the platform" + (" on the simulated demo city" if demo else ""),
            description="Run the platform"
            + (
                " on a simulated demo city; its users log in with the password alone."
                if demo
                else " (TOTP second factor required of admins, commanders and dispatchers; see below)."
            ),
            epilog=None if demo else SERVE_EPILOG,
        )
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, default=8000)
        p.add_argument("--osm", help="OSM PBF of the city (default: the bundled Harbin extract)")
        p.add_argument("--log-level", default="warning")
        if demo:
            p.add_argument("--units", type=int, default=60, help="patrol units on duty (default 60)")
            p.add_argument("--seed", type=int, default=7)
            p.add_argument("--call-rate", type=float, default=3.0, help="× the real hourly call rate")
            p.add_argument(
                "--auto-dispatch-after",
                type=float,
                default=45.0,
                help="seconds before the stand-in dispatcher takes a waiting incident",
            )
        p.set_defaults(func=run_demo if demo else run_serve)


def serving_settings(args: argparse.Namespace, *, demo: bool) -> Settings:
    """The demo's users log in with the password alone, so that anyone can try it; a real server
    asks a second factor of the command room's roles unless the environment says otherwise."""
    if demo:
        # The demo shows a resident's sign-in code on their screen, as no SMS gateway is there.
        shown: dict[str, str] = {} if "JINGWU_SMS_SENDER" in os.environ else {"sms_sender": "demo"}
        if "JINGWU_URBAN_DISTRICTS" not in os.environ:
            # Harbin's central districts are urban; Songbei, across the river, partly rural.
            shown["urban_districts"] = "南岗区,道里区,道外区,香坊区"
        return settings_for(args, require_totp=False, **shown)
    if "JINGWU_REQUIRE_TOTP" not in os.environ:
        return settings_for(args, require_totp=True)
    return settings_for(args)


def run_serve(args: argparse.Namespace) -> int:
    return _serve(args, demo=False)


def run_demo(args: argparse.Namespace) -> int:
    return _serve(args, demo=True)


def _serve(args: argparse.Namespace, *, demo: bool) -> int:
    settings = serving_settings(args, demo=demo)
    # Refused before anything loads: a second server on this folder would share its database.
    with (
        hold_data_dir(settings.data_dir, "demo" if demo else "serve")
        if uses_data_dir_database(settings)
        else contextlib.nullcontext()
    ):
        return _serve_locked(args, settings, demo=demo)


def _serve_locked(args: argparse.Namespace, settings: Settings, *, demo: bool) -> int:
    # The web stack and the services are loaded only by the commands that serve.
    import uvicorn

    from jingwu.api.factory import WEBSOCKETS, create_app
    from jingwu.api.log_redaction import redact_server_logs
    from jingwu.composition import build_services, settle_heap

    print(f"Jingwu 警务 — loading the road network of {settings.osm_file.name} …", file=sys.stderr)
    services = build_services(settings, migrate=True, demo=demo, progress=progress)
    services.geocoding.warm_up()  # the address index, on a thread: the server need not wait for it
    services.maps.warm_up()  # the base map's water and labels, likewise
    background: list[Any] = []
    if demo:
        banner = _start_demo_city(args, services, background)
    elif settings.require_totp:
        missing = services.auth.second_factor.users_without()
        banner = (
            "  second factor: TOTP required for admin, commander and dispatcher (JINGWU_REQUIRE_TOTP)\n"
        ) + (
            f"  not enrolled yet, cannot log in: {', '.join(missing[:10])}"
            f"{' …' if len(missing) > 10 else ''} (enrol: jingwu user-totp USERNAME)\n"
            if missing
            else ""
        )
    else:
        banner = "  second factor: not required (JINGWU_REQUIRE_TOTP=false)\n"
    app = create_app(services, background=background)
    redact_server_logs()
    host_shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    print(
        f"\nJingwu is up.\n"
        f"  dispatcher's console (指挥台):      http://{host_shown}:{args.port}/\n"
        f"  officer's terminal (移动终端, PWA): http://{host_shown}:{args.port}/terminal/\n"
        f"  station desk (派出所工作台):        http://{host_shown}:{args.port}/station/\n"
        f"  residents' service (群众服务):      http://{host_shown}:{args.port}/service/\n"
        f"  analytics (大数据研判):             http://{host_shown}:{args.port}/analytics/\n"
        f"  API docs:                          http://{host_shown}:{args.port}/docs\n"
        f"{banner}"
        f"  data: {settings.resolved_database_url}\n",
        file=sys.stderr,
        flush=True,
    )
    settle_heap()
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, ws=WEBSOCKETS)
    finally:
        services.close()
    return 0


def _start_demo_city(args: argparse.Namespace, services: Services, background: list[Any]) -> str:
    """Seed the demo city's stations, units and users, schedule its simulator, and say how to
    log in (the start-up banner's lines)."""
    import numpy as np

    from jingwu.simulation.cameras import seed_demo_cameras
    from jingwu.simulation.history import seed_history
    from jingwu.simulation.seed import seed_demo_city
    from jingwu.simulation.simulator import CitySimulator, SimConfig

    logins = seed_demo_city(
        services,
        units=args.units,
        password=os.environ.get("JINGWU_DEMO_PASSWORD"),
        rng=np.random.default_rng(args.seed),
        now=datetime.now(UTC),
    )
    # Two years of the city's past for the analytics page: written on the first start only.
    seed_history(services, rng=np.random.default_rng(args.seed + 2), now=datetime.now(UTC))
    # Eight cameras replaying generated street clips, for the console's live views and clips.
    seed_demo_cameras(services)
    simulator = CitySimulator(
        services,
        np.random.default_rng(args.seed + 1),
        SimConfig(call_rate_scale=args.call_rate, auto_dispatch_after_s=args.auto_dispatch_after),
    )

    async def run_simulator(_services: object) -> None:
        await simulator.run()

    background.append(run_simulator)
    shown = logins.password if logins.generated else "(the value of JINGWU_DEMO_PASSWORD)"
    officers = ", ".join(logins.officer_usernames[:4])
    on_duty = sum(1 for u in services.dispatch.list_units() if u.status != "off_duty")
    return (
        "  DEMO: log-in is password-only (no second factor)\n"
        f"  Demo city: {len(services.dispatch.list_units())} units ({on_duty} on duty) at "
        f"{len(services.dispatch.stations)} stations; simulated calls arriving\n"
        f"  cameras: {len(services.video.cameras())} in central Harbin (replayed clips); open an "
        "incident near 哈尔滨站 or 中央大街 to watch them live\n"
        f"  console: log in as 'dispatcher' (or 'admin'); terminal: as an officer on duty, by "
        f"police number ({officers}, …)\n"
        f"{other_demo_accounts(logins.accounts)}\n"
        f"  password: {shown}\n"
    )


def other_demo_accounts(accounts: Sequence[Any]) -> str:
    """The demo's other users, one per role and jurisdiction, for the start-up banner: lines of
    at most about 100 characters, no entry split."""
    entries = [
        f"{a.username} ({a.jurisdiction})"
        if a.username == a.role
        else f"{a.username} ({a.role}, {a.jurisdiction})"
        for a in accounts
        if a.username not in ("admin", "dispatcher")
    ]
    lines = ["  other roles:"]
    for i, entry in enumerate(entries):
        entry += "," if i < len(entries) - 1 else ""
        if len(lines[-1]) + 1 + len(entry) > 100 and lines[-1].strip() != "other roles:":
            lines.append("   ")
        lines[-1] += " " + entry
    return "\n".join(lines)


__all__ = ["SERVE_EPILOG", "other_demo_accounts", "register", "serving_settings"]
