"""A real RTSP server for the video tests (GStreamer's gst-rtsp-server). Run by Debian's python3, which
has `gi`: ``/usr/bin/python3 src/jingwu/bench/rtsp_server.py --port P [--udp-port U]``. Prints ``ready``
once serving; then reads commands from stdin, one a line (``switch moving|black|frozen|nosignal``),
answering ``ok`` (or ``error …``) on stdout.

Mounts, H.264 unless said, each shared by all its clients:

* ``/moving`` 640×360@25 (a moving ball and a clock), ``/hd`` the same at 1280×720;
* ``/switch`` 640×360@25, its picture switched while clients stay connected: "moving", "black"
  (black frames), "frozen" (the same still picture over and over), "nosignal" (the session stays
  up, no frames are sent). A client must connect while frames flow: the SDP needs the first ones;
* ``/h265`` H.265, a codec Jingwu refuses (a camera's main stream, often);
* ``/secure`` as /moving, behind RTSP basic auth (admin / s3cret; anything else gets 401);
* ``/timecode`` whatever a TimecodeStreamer sends as MPEG-TS to udp://127.0.0.1:U.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
gi.require_version("GstRtsp", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

USER, PASSWORD = "admin", "s3cret"
ADMIN_BASIC = GstRtspServer.RTSPAuth.make_basic(USER, PASSWORD)
H264 = (
    # A fixed quantizer: a still picture then decodes the same from every keyframe ("frozen" is exact).
    "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=25 pass=quant quantizer=24 threads=1 ! "
    "video/x-h264,profile=constrained-baseline ! rtph264pay name=pay0 pt=96 config-interval=-1"
)
STATES = ("moving", "black", "frozen", "nosignal")


def camera(width: int, height: int, *, names: bool = False, overlay: bool = True) -> str:
    """A live test picture with a clock; `names` names the elements /switch changes."""
    src, clock, valve = (
        ("name=src ", "name=clock ", "valve name=valve drop=false ! ") if names else ("", "", "")
    )
    clockoverlay = f'clockoverlay {clock}font-desc="Sans 24" time-format="%H:%M:%S" ! ' if overlay else ""
    return (
        f"videotestsrc {src}is-live=true pattern=ball ! "
        f"video/x-raw,width={width},height={height},framerate=25/1,format=I420 ! {clockoverlay}{valve}"
    )


class SecureAuth(GstRtspServer.RTSPAuth):
    """gst-rtsp-server answers 404 to a client whose token's role may not see a mount; a camera behind a
    password answers 401 with a challenge, so that a client knows to (re)try credentials."""

    def do_check(self, ctx: GstRtspServer.RTSPContext, check: str) -> bool:
        if (
            check == GstRtspServer.RTSP_AUTH_CHECK_MEDIA_FACTORY_ACCESS
            and ctx.uri is not None
            and ctx.uri.abspath.startswith("/secure")
            and ctx.request.get_header(GstRtsp.RTSPHeaderField.AUTHORIZATION, 0)[1] != f"Basic {ADMIN_BASIC}"
        ):
            _, response = GstRtsp.rtsp_message_new_response(
                GstRtsp.RTSPStatusCode.UNAUTHORIZED, None, ctx.request
            )
            response.add_header(GstRtsp.RTSPHeaderField.WWW_AUTHENTICATE, 'Basic realm="jingwu-test"')
            ctx.client.send_message(ctx.session, response)
            return False
        return bool(GstRtspServer.RTSPAuth.do_check(self, ctx, check))


def from_udp(port: int, repack: str) -> str:
    """MPEG-TS arriving on a UDP port, demuxed and repacked as RTP. tsdemux's default 700 ms of added
    latency would count in the glass-to-glass measurement: none is needed on loopback."""
    return (
        f'udpsrc port={port} caps="video/mpegts,systemstream=(boolean)true" ! tsdemux latency=0 ! '
        f"{repack} name=pay0 pt=96 config-interval=1"
    )


class Switch:
    """The state of /switch, applied to its pipeline whenever one exists (it is made on the first
    client's request and dropped after the last one leaves)."""

    def __init__(self) -> None:
        self.state = "moving"
        self.bins: list[Gst.Bin] = []

    def configure(self, _factory: Any, media: GstRtspServer.RTSPMedia) -> None:
        element = media.get_element()
        self.bins.append(element)
        media.connect("unprepared", lambda *_: self.bins.remove(element) if element in self.bins else None)
        self.apply(element)

    def set(self, state: str) -> None:
        if state not in STATES:
            raise ValueError(f"unknown state {state!r}: one of {', '.join(STATES)}")
        self.state = state
        for element in self.bins:
            self.apply(element)

    def apply(self, element: Gst.Bin) -> None:
        src, clock, valve = (element.get_by_name(n) for n in ("src", "clock", "valve"))
        # ball moves, black is black; frozen is one grey picture with the clock hidden, so that
        # every keyframe decodes the same (a textured still, "colors", decoded a shade differently
        # from keyframe to keyframe, which no frozen camera does: it repeats the same frame).
        src.set_property(
            "pattern", {"moving": "ball", "black": "black", "frozen": "solid-color"}.get(self.state, "ball")
        )
        src.set_property("foreground-color", 0xFF8A7F70)
        clock.set_property("silent", self.state in ("black", "frozen"))
        valve.set_property("drop", self.state == "nosignal")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--udp-port", type=int, default=5004)
    args = parser.parse_args()
    Gst.init(None)

    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    # Each client gets a thread of its own: one waiting on a stalled mount must not hold up the rest.
    server.get_thread_pool().set_max_threads(16)
    mounts = server.get_mount_points()

    # Every mount is open to anyone (the "anonymous" role of the default token) except /secure.
    auth = SecureAuth()
    anonymous, admin = GstRtspServer.RTSPToken(), GstRtspServer.RTSPToken()
    anonymous.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "anonymous")
    admin.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "admin")
    auth.set_default_token(anonymous)
    auth.add_basic(ADMIN_BASIC, admin)
    server.set_auth(auth)

    def mount(path: str, launch: str, role: str = "anonymous") -> GstRtspServer.RTSPMediaFactory:
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(f"( {launch} )")
        factory.set_shared(True)
        allowed = Gst.Structure.new_empty(role)
        allowed.set_value(GstRtspServer.RTSP_PERM_MEDIA_FACTORY_ACCESS, True)
        allowed.set_value(GstRtspServer.RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, True)
        factory.add_role_from_structure(allowed)
        mounts.add_factory(path, factory)
        return factory

    mount("/moving", camera(640, 360) + H264)
    mount("/hd", camera(1280, 720) + H264)
    mount("/secure", camera(640, 360) + H264, role="admin")
    # H.265: what many IP cameras send on their main stream, and what Jingwu refuses to keep or play.
    mount(
        "/h265",
        camera(640, 360) + "x265enc tune=zerolatency speed-preset=ultrafast key-int-max=25 ! "
        "rtph265pay name=pay0 pt=96 config-interval=-1",
    )
    switch = Switch()
    mount("/switch", camera(640, 360, names=True) + H264).connect("media-configure", switch.configure)
    mount("/timecode", from_udp(args.udp_port, "h264parse ! rtph264pay"))

    if server.attach(None) == 0:
        sys.exit(f"cannot serve RTSP on 127.0.0.1:{args.port}")
    loop = GLib.MainLoop()

    def command(channel: GLib.IOChannel, condition: GLib.IOCondition) -> bool:
        line = sys.stdin.readline()
        if not line:  # stdin closed: whoever started us is gone
            loop.quit()
            return False
        words = line.split()
        try:
            if len(words) != 2 or words[0] != "switch":
                raise ValueError(f"unknown command {line.strip()!r}: switch STATE")
            switch.set(words[1])
            print("ok", flush=True)
        except ValueError as exc:
            print(f"error {exc}", flush=True)
        return True

    GLib.io_add_watch(GLib.IOChannel.unix_new(sys.stdin.fileno()), GLib.IO_IN | GLib.IO_HUP, command)
    print("ready", flush=True)
    loop.run()


if __name__ == "__main__":
    main()
