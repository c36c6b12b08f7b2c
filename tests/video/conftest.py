"""The video rig's fixtures (see tests/video/rig.py): ``rtsp_server`` and ``timecode_streamer``."""

from tests.video.rig import rtsp_server, timecode_streamer

__all__ = ["rtsp_server", "timecode_streamer"]
