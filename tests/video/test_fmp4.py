"""Fmp4Muxer: H.264 packets from MP4 (avcC), MPEG-TS and raw Annex-B inputs into fragmented MP4
that parses as ISO-BMFF and decodes back frame for frame; the codec string; the GOP cache."""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator

import av
import numpy as np
import pytest

from jingwu.errors import UserError, ValidationFailed
from jingwu.video.fmp4 import Fmp4Muxer, Fragment, GopCache, UnsupportedCodec, codec_mime, parse_sps

FRAMES, GOP, FPS = 100, 25, 25


def make_h264(fmt: str, *, profile: str = "High", level: str = "3.1", bframes: int = 2) -> bytes:
    """FRAMES frames of 640×360 H.264 (a keyframe every GOP frames) in container `fmt`."""
    buf = io.BytesIO()
    options = {"g": str(GOP), "keyint_min": str(GOP), "sc_threshold": "0", "level": level, "bf": str(bframes)}
    with av.open(buf, "w", format=fmt) as out:
        stream = out.add_stream("libx264", rate=FPS, options=options)
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        stream.codec_context.profile = profile
        for i in range(FRAMES):
            picture = np.zeros((360, 640, 3), np.uint8)
            picture[:, (i * 6) % 640 :] = (200, 80, 40)  # an edge that moves: real P/B frames
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return buf.getvalue()


def remux(source: bytes, fmt: str) -> tuple[Fmp4Muxer, list[Fragment]]:
    with av.open(io.BytesIO(source), "r", format=fmt) as container:
        stream = container.streams.video[0]
        muxer = Fmp4Muxer(stream)
        fragments = [f for p in container.demux(stream) if p.size and (f := muxer.mux(p)) is not None]
    return muxer, fragments


def boxes(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """The top-level ISO-BMFF boxes of `data`: (type, payload)."""
    i = 0
    while i < len(data):
        size, kind = struct.unpack(">I4s", data[i : i + 8])
        assert size >= 8 and i + size <= len(data), f"a broken {kind!r} box at {i}"
        yield kind, data[i + 8 : i + size]
        i += size


@pytest.fixture(scope="module", params=["mp4", "mpegts", "h264"])
def source(request: pytest.FixtureRequest) -> tuple[str, bytes]:
    fmt = str(request.param)
    return fmt, make_h264(fmt)


def test_remuxed_stream_is_fragmented_mp4_that_decodes_frame_for_frame(source: tuple[str, bytes]) -> None:
    fmt, data = source
    muxer, fragments = remux(data, fmt)
    assert muxer.init_segment is not None
    assert len(fragments) == FRAMES  # one fragment per frame: nothing waits for the next one
    assert sum(f.keyframe for f in fragments) == FRAMES // GOP
    assert fragments[0].keyframe

    output = muxer.init_segment + b"".join(f.data for f in fragments)
    kinds = [kind for kind, _ in boxes(output)]
    assert kinds[:2] == [b"ftyp", b"moov"]
    assert kinds[2:] == [b"moof", b"mdat"] * FRAMES
    for kind, payload in boxes(fragments[0].data):
        if kind == b"moof":
            assert payload[4:8] == b"mfhd"

    decode_times = [f.dts for f in fragments]
    assert decode_times == sorted(decode_times) and len(set(decode_times)) == FRAMES
    with av.open(io.BytesIO(output), "r") as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (640, 360)
        assert sum(1 for _ in container.decode(stream)) == FRAMES


@pytest.mark.parametrize(
    ("profile", "level", "expected"),
    [("High", "3.1", "avc1.64001f"), ("Main", "3.0", "avc1.4d401e"), ("Baseline", "4.0", "avc1.42c028")],
)
def test_codec_string_follows_the_profile_and_level(profile: str, level: str, expected: str) -> None:
    data = make_h264("mp4", profile=profile, level=level, bframes=0)
    with av.open(io.BytesIO(data), "r") as container:
        stream = container.streams.video[0]
        assert codec_mime(stream) == f'video/mp4; codecs="{expected}"'
        assert Fmp4Muxer(stream).mime == f'video/mp4; codecs="{expected}"'


def test_parameter_sets_found_in_band_when_extradata_is_empty() -> None:
    """RTSP cameras may announce no sprop-parameter-sets: the first keyframe carries them (as in
    TS, whose Annex-B packets repeat the SPS/PPS before each keyframe)."""
    with av.open(io.BytesIO(make_h264("mpegts")), "r", format="mpegts") as container:
        stream = container.streams.video[0]
        packets = [p for p in container.demux(stream) if p.size]
        time_base = stream.time_base
    muxer = Fmp4Muxer.from_parameters(width=0, height=0, extradata=None, time_base=time_base)
    assert muxer.init_segment is None and muxer.mime is None
    first = muxer.mux(packets[0])
    assert first is not None and first.keyframe
    assert muxer.mime == 'video/mp4; codecs="avc1.64001f"'
    assert muxer.size == (640, 360)  # from the SPS, cropping applied (368 coded lines)

    class NoExtradata:  # a stream whose codec context carries no extradata
        name, extradata = "h264", None

    assert codec_mime(NoExtradata(), bytes(packets[0])) == 'video/mp4; codecs="avc1.64001f"'
    with pytest.raises(ValidationFailed):
        codec_mime(NoExtradata())


def test_packets_before_the_first_keyframe_are_dropped() -> None:
    data = make_h264("mpegts")
    with av.open(io.BytesIO(data), "r", format="mpegts") as container:
        stream = container.streams.video[0]
        muxer = Fmp4Muxer(stream)
        packets = [p for p in container.demux(stream) if p.size]
    out = [muxer.mux(p) for p in packets[5:]]  # joined mid-GOP
    assert out[: GOP - 5] == [None] * (GOP - 5)
    first = out[GOP - 5]
    assert first is not None and first.keyframe


def test_a_non_h264_stream_is_refused_clearly() -> None:
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("mpeg4", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for i in range(3):
            frame = av.VideoFrame.from_ndarray(np.zeros((240, 320, 3), np.uint8), format="rgb24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    with av.open(io.BytesIO(buf.getvalue()), "r") as container:
        stream = container.streams.video[0]
        with pytest.raises(UnsupportedCodec) as caught:
            Fmp4Muxer(stream)
        with pytest.raises(UnsupportedCodec):
            codec_mime(stream)
    error = caught.value
    assert isinstance(error, UserError) and error.code == "unsupported_codec"
    assert error.params == {"codec": "mpeg4"} and "H.264" in error.message


def test_a_viewer_joining_mid_gop_starts_at_the_keyframe(source: tuple[str, bytes]) -> None:
    fmt, data = source
    muxer, fragments = remux(data, fmt)
    cache: GopCache[Fragment] = GopCache()
    join_at = GOP + 10  # ten frames into the second GOP
    for fragment in fragments[:join_at]:
        cache.push(fragment, keyframe=fragment.keyframe)
    joined = cache.snapshot()
    assert joined == fragments[GOP:join_at]
    assert joined[0].keyframe and not any(f.keyframe for f in joined[1:])

    # init segment + the GOP so far + the live rest decodes on its own
    late = muxer.init_segment or b""
    late += b"".join(f.data for f in joined) + b"".join(f.data for f in fragments[join_at:])
    with av.open(io.BytesIO(late), "r") as container:
        assert sum(1 for _ in container.decode(video=0)) == FRAMES - GOP


def test_gop_cache_ignores_what_comes_before_a_keyframe_and_is_bounded() -> None:
    cache: GopCache[int] = GopCache(max_items=3)
    cache.push(1, keyframe=False)
    assert cache.snapshot() == []
    cache.push(2, keyframe=True)
    cache.push(3, keyframe=False)
    assert cache.snapshot() == [2, 3]
    cache.push(4, keyframe=False)
    cache.push(5, keyframe=False)  # the GOP outgrew the bound: a late viewer waits for a keyframe
    assert cache.snapshot() == []
    cache.push(6, keyframe=False)
    assert len(cache) == 0
    cache.push(7, keyframe=True)
    assert list(cache) == [7]


def test_parse_sps_refuses_garbage() -> None:
    with pytest.raises(ValidationFailed):
        parse_sps(b"\x65\x00\x00\x00")
    with pytest.raises(ValidationFailed):
        parse_sps(b"\x67\x64\x00\x1f")  # the header only
