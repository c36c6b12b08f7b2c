"""H.264 → fragmented MP4 for live viewing in a browser (Media Source Extensions).

The camera's H.264 passes through untouched: each demuxed packet (Annex-B from RTSP/TS, or
length-prefixed from MP4) becomes one ``moof``+``mdat`` fragment, so a frame leaves as soon as it
arrives; the cost per frame is a few byte copies, shared by every viewer. The boxes are written
here rather than by PyAV's mp4 muxer: that muxer buffers until its own flush points and rewrites
nothing we need, while the handful of boxes MSE reads (ISO/IEC 14496-12 and -15) is short to write.

    muxer = Fmp4Muxer(input_stream)          # raises UnsupportedCodec unless H.264
    gop = GopCache[bytes]()
    for packet in container.demux(input_stream):
        fragment = muxer.mux(packet)         # None until the first keyframe
        if fragment is not None:
            gop.push(fragment.data, keyframe=fragment.keyframe)
            send_to_viewers(fragment.data)
    # a viewer who joins: muxer.mime, muxer.init_segment, then gop.snapshot(), then live fragments

``init_segment`` and ``mime`` are ``None`` until the SPS and PPS are known: from the stream's
extradata (avcC or Annex-B) or, for RTSP sources without sprop-parameter-sets, from the first
keyframe's in-band parameter sets.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Generic, TypeVar

from jingwu.errors import ValidationFailed

__all__ = [
    "Fmp4Muxer",
    "Fragment",
    "GopCache",
    "SpsInfo",
    "UnsupportedCodec",
    "codec_mime",
    "parse_sps",
]

TIMESCALE = 90_000  # the media timescale of the output track (that of RTP video clocks)
_NAL_SPS, _NAL_PPS, _NAL_AUD, _NAL_FILLER, _NAL_IDR = 7, 8, 9, 12, 5
_H264_NAMES = frozenset({"h264", "libx264", "h264_cuvid", "h264_qsv", "h264_v4l2m2m", "libopenh264"})
# trun sample flags (14496-12 §8.8.3.1): a sync sample depends on nothing; others are non-sync
_SYNC_FLAGS = 0x0200_0000
_NON_SYNC_FLAGS = 0x0101_0000
_UNITY_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x4000_0000)


class UnsupportedCodec(ValidationFailed):
    """The stream is not H.264: the browser path passes video through and never transcodes."""

    code = "unsupported_codec"

    def __init__(self, codec: str) -> None:
        super().__init__(
            f"live view needs an H.264 stream, this one is {codec!r} (the camera must send H.264)",
            codec=codec,
        )


# ------------------------------------------------------------------------------ NAL units


def _split_annexb(data: bytes) -> list[bytes]:
    """The NAL units of an Annex-B byte stream (start codes 00 00 01 or 00 00 00 01)."""
    nals: list[bytes] = []
    start = -1
    i = 0
    n = len(data)
    while True:
        j = data.find(b"\x00\x00\x01", i)
        if j < 0:
            break
        if start >= 0:
            end = j
            while end > start and data[end - 1] == 0:  # trailing zeros belong to the next start code
                end -= 1
            if end > start:
                nals.append(data[start:end])
        start = i = j + 3
    if 0 <= start < n:
        nals.append(data[start:])
    return nals


def _split_length_prefixed(data: bytes, size: int) -> list[bytes]:
    nals: list[bytes] = []
    i = 0
    while i + size <= len(data):
        length = int.from_bytes(data[i : i + size], "big")
        i += size
        if length == 0 or i + length > len(data):
            break  # a truncated packet: keep what parsed
        nals.append(data[i : i + length])
        i += length
    return nals


def _is_annexb(data: bytes) -> bool:
    return data.startswith(b"\x00\x00\x01") or data.startswith(b"\x00\x00\x00\x01")


def _split_nals(data: bytes, length_size: int | None) -> list[bytes]:
    # A packet is Annex-B when it starts with a start code, whatever the extradata said: RTSP and
    # TS demuxers hand Annex-B, MP4 hands length-prefixed units
    # (A length-prefixed packet can start like a start code: a 4-byte length of 256-511 reads
    # 00 00 01 xx; so the lengths are tried first, and kept when they account for every byte.)
    if length_size is None:
        return _split_annexb(data)
    nals = _split_length_prefixed(data, length_size)
    if sum(len(n) + length_size for n in nals) == len(data) or not _is_annexb(data):
        return nals
    return _split_annexb(data)


def _parse_extradata(extradata: bytes) -> tuple[list[bytes], list[bytes], int | None]:
    """(SPSs, PPSs, NAL length size of the packets or None for Annex-B) from avcC or Annex-B."""
    if not extradata:
        return [], [], None
    if extradata[0] == 1 and len(extradata) >= 7:  # an AVCDecoderConfigurationRecord
        length_size = (extradata[4] & 0x03) + 1
        sps: list[bytes] = []
        pps: list[bytes] = []
        i = 6
        count = extradata[5] & 0x1F
        for target, first in ((sps, True), (pps, False)):
            if not first:
                if i >= len(extradata):
                    break
                count = extradata[i]
                i += 1
            for _ in range(count):
                length = int.from_bytes(extradata[i : i + 2], "big")
                target.append(extradata[i + 2 : i + 2 + length])
                i += 2 + length
        return sps, pps, length_size
    nals = _split_annexb(extradata)
    return (
        [n for n in nals if n[0] & 0x1F == _NAL_SPS],
        [n for n in nals if n[0] & 0x1F == _NAL_PPS],
        None,
    )


# ----------------------------------------------------------------------------------- the SPS


@dataclass(frozen=True, slots=True)
class SpsInfo:
    profile_idc: int
    constraint_flags: int
    level_idc: int
    width: int
    height: int

    @property
    def codec_string(self) -> str:
        """RFC 6381 ``avc1.PPCCLL``."""
        return f"avc1.{self.profile_idc:02x}{self.constraint_flags:02x}{self.level_idc:02x}"


class _Bits:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def bit(self) -> int:
        byte = self.data[self.pos >> 3]  # IndexError on a truncated SPS, caught by parse_sps
        value = (byte >> (7 - (self.pos & 7))) & 1
        self.pos += 1
        return value

    def bits(self, n: int) -> int:
        value = 0
        for _ in range(n):
            value = (value << 1) | self.bit()
        return value

    def ue(self) -> int:
        zeros = 0
        while self.bit() == 0:
            zeros += 1
            if zeros > 31:
                raise ValueError("bad exp-Golomb code")
        return (1 << zeros) - 1 + self.bits(zeros)

    def se(self) -> int:
        k = self.ue()
        return (k + 1) // 2 if k & 1 else -(k // 2)


def _unescape(nal: bytes) -> bytes:
    """The RBSP: emulation-prevention bytes (00 00 03) removed."""
    return nal.replace(b"\x00\x00\x03", b"\x00\x00")


def parse_sps(sps: bytes) -> SpsInfo:
    """Profile, constraint flags, level and the cropped picture size of an SPS NAL unit (with its
    one-byte NAL header). Raises ValidationFailed for a malformed SPS."""
    if len(sps) < 4 or sps[0] & 0x1F != _NAL_SPS:
        raise ValidationFailed("not an H.264 SPS", code="bad_sps")
    profile, constraints, level = sps[1], sps[2], sps[3]
    try:
        r = _Bits(_unescape(sps[4:]))
        r.ue()  # seq_parameter_set_id
        chroma_format_idc = 1
        if profile in (100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135):
            chroma_format_idc = r.ue()
            if chroma_format_idc == 3:
                r.bit()  # separate_colour_plane_flag
            r.ue()  # bit_depth_luma_minus8
            r.ue()  # bit_depth_chroma_minus8
            r.bit()  # qpprime_y_zero_transform_bypass_flag
            if r.bit():  # seq_scaling_matrix_present_flag
                for i in range(8 if chroma_format_idc != 3 else 12):
                    if r.bit():
                        last = nxt = 8
                        for _ in range(16 if i < 6 else 64):
                            if nxt != 0:
                                nxt = (last + r.se() + 256) % 256
                            last = nxt if nxt != 0 else last
        r.ue()  # log2_max_frame_num_minus4
        poc_type = r.ue()
        if poc_type == 0:
            r.ue()
        elif poc_type == 1:
            r.bit()
            r.se()
            r.se()
            for _ in range(r.ue()):
                r.se()
        r.ue()  # max_num_ref_frames
        r.bit()  # gaps_in_frame_num_value_allowed_flag
        width_mbs = r.ue() + 1
        height_units = r.ue() + 1
        frame_mbs_only = r.bit()
        if not frame_mbs_only:
            r.bit()  # mb_adaptive_frame_field_flag
        r.bit()  # direct_8x8_inference_flag
        crop = (r.ue(), r.ue(), r.ue(), r.ue()) if r.bit() else (0, 0, 0, 0)
    except (IndexError, ValueError) as exc:
        raise ValidationFailed("a truncated or malformed H.264 SPS", code="bad_sps") from exc
    sub_w, sub_h = {0: (1, 1), 1: (2, 2), 2: (2, 1), 3: (1, 1)}.get(chroma_format_idc, (2, 2))
    crop_x = sub_w if chroma_format_idc else 1
    crop_y = (sub_h if chroma_format_idc else 1) * (2 - frame_mbs_only)
    width = width_mbs * 16 - crop_x * (crop[0] + crop[1])
    height = (2 - frame_mbs_only) * height_units * 16 - crop_y * (crop[2] + crop[3])
    return SpsInfo(profile, constraints, level, width, height)


# --------------------------------------------------------------------------- stream parameters


def _codec_name(stream: Any) -> str:
    ctx = getattr(stream, "codec_context", stream)
    name = getattr(ctx, "name", None) or getattr(getattr(ctx, "codec", None), "name", None)
    return str(name or "unknown")


def _check_h264(stream: Any) -> None:
    name = _codec_name(stream)
    if name not in _H264_NAMES:
        raise UnsupportedCodec(name)


def _extradata(stream: Any) -> bytes:
    ctx = getattr(stream, "codec_context", stream)
    return bytes(getattr(ctx, "extradata", None) or b"")


def codec_mime(stream: Any, first_keyframe: bytes | None = None) -> str:
    """``video/mp4; codecs="avc1.PPCCLL"`` for a PyAV H.264 stream (or codec context), from the SPS
    in its extradata (avcC or Annex-B) or, when that is empty (some RTSP sources), in
    `first_keyframe`'s in-band parameter sets. Raises UnsupportedCodec for another codec and
    ValidationFailed (code ``no_sps``) when no SPS is to be found."""
    _check_h264(stream)
    sps, _, length_size = _parse_extradata(_extradata(stream))
    if not sps and first_keyframe:
        sps = [n for n in _split_nals(first_keyframe, length_size) if n and n[0] & 0x1F == _NAL_SPS]
    if not sps:
        raise ValidationFailed("no H.264 SPS in the extradata nor in the first keyframe", code="no_sps")
    return f'video/mp4; codecs="{parse_sps(sps[0]).codec_string}"'


# --------------------------------------------------------------------------------- the boxes


def _box(kind: bytes, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack(">I", 8 + len(body)) + kind + body


def _full_box(kind: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    return _box(kind, struct.pack(">I", (version << 24) | flags), *payload)


def _avcc(sps: list[bytes], pps: list[bytes]) -> bytes:
    first = sps[0]
    parts = [bytes([1, first[1], first[2], first[3], 0xFC | 3, 0xE0 | len(sps)])]  # 4-byte lengths
    parts += [struct.pack(">H", len(s)) + s for s in sps]
    parts.append(bytes([len(pps)]))
    parts += [struct.pack(">H", len(p)) + p for p in pps]
    return _box(b"avcC", *parts)


def _init_segment(width: int, height: int, sps: list[bytes], pps: list[bytes]) -> bytes:
    ftyp = _box(b"ftyp", b"isom", struct.pack(">I", 0x200), b"isomiso6avc1mp41")
    mvhd = _full_box(
        b"mvhd", 0, 0,
        struct.pack(">IIII", 0, 0, 1000, 0),  # times, timescale, duration 0: a live stream
        struct.pack(">IH", 0x10000, 0x100), bytes(10), _UNITY_MATRIX, bytes(24),
        struct.pack(">I", 2),  # next_track_ID
    )  # fmt: skip
    tkhd = _full_box(
        b"tkhd", 0, 3,  # enabled, in movie
        struct.pack(">IIIII", 0, 0, 1, 0, 0), bytes(8), struct.pack(">hhhH", 0, 0, 0, 0),
        _UNITY_MATRIX, struct.pack(">II", width << 16, height << 16),
    )  # fmt: skip
    mdhd = _full_box(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, TIMESCALE, 0, 0x55C4, 0))  # und
    hdlr = _full_box(b"hdlr", 0, 0, bytes(4), b"vide", bytes(12), b"VideoHandler\x00")
    avc1 = _box(
        b"avc1",
        bytes(6), struct.pack(">H", 1),  # data_reference_index
        bytes(16), struct.pack(">HH", width, height),
        struct.pack(">II", 0x480000, 0x480000), bytes(4), struct.pack(">H", 1),  # 72 dpi, 1 frame
        bytes(32), struct.pack(">Hh", 0x18, -1),  # compressor name, depth, pre_defined
        _avcc(sps, pps),
    )  # fmt: skip
    stbl = _box(
        b"stbl",
        _full_box(b"stsd", 0, 0, struct.pack(">I", 1), avc1),
        _full_box(b"stts", 0, 0, struct.pack(">I", 0)),
        _full_box(b"stsc", 0, 0, struct.pack(">I", 0)),
        _full_box(b"stsz", 0, 0, struct.pack(">II", 0, 0)),
        _full_box(b"stco", 0, 0, struct.pack(">I", 0)),
    )
    dinf = _box(b"dinf", _full_box(b"dref", 0, 0, struct.pack(">I", 1), _full_box(b"url ", 0, 1)))
    minf = _box(b"minf", _full_box(b"vmhd", 0, 1, bytes(8)), dinf, stbl)
    trak = _box(b"trak", tkhd, _box(b"mdia", mdhd, hdlr, minf))
    mvex = _box(b"mvex", _full_box(b"trex", 0, 0, struct.pack(">IIIII", 1, 1, 0, 0, 0)))
    return ftyp + _box(b"moov", mvhd, trak, mvex)


def _fragment(
    sequence: int, decode_time: int, duration: int, cto: int, keyframe: bool, sample: bytes
) -> bytes:
    flags = _SYNC_FLAGS if keyframe else _NON_SYNC_FLAGS
    # trun v1: data offset, duration, size, flags and a signed composition offset for one sample
    trun_body = struct.pack(">IiIIIi", 1, 0, duration, len(sample), flags, cto)
    tfhd = _full_box(b"tfhd", 0, 0x020000, struct.pack(">I", 1))  # default-base-is-moof, track 1
    tfdt = _full_box(b"tfdt", 1, 0, struct.pack(">Q", decode_time))
    moof_size = 8 + 16 + 8 + len(tfhd) + len(tfdt) + 12 + len(trun_body)
    trun_body = trun_body[:4] + struct.pack(">i", moof_size + 8) + trun_body[8:]  # data in the mdat
    trun = _full_box(b"trun", 1, 0x000F01, trun_body)
    moof = _box(
        b"moof", _full_box(b"mfhd", 0, 0, struct.pack(">I", sequence)), _box(b"traf", tfhd, tfdt, trun)
    )
    return moof + struct.pack(">I", 8 + len(sample)) + b"mdat" + sample


# --------------------------------------------------------------------------------- the muxer


@dataclass(frozen=True, slots=True)
class Fragment:
    """One moof+mdat holding one frame. Times in seconds on the source's own timeline."""

    data: bytes
    keyframe: bool
    dts: float
    pts: float


class Fmp4Muxer:
    """Remuxes one H.264 stream to fragmented MP4: ``init_segment`` (ftyp+moov) once, then one
    fragment per packet from ``mux``. Not thread-safe: feed it from the one demuxing thread."""

    def __init__(self, stream: Any) -> None:
        """`stream`: a PyAV input ``VideoStream`` (or its codec context) of an H.264 source."""
        _check_h264(stream)
        ctx = getattr(stream, "codec_context", stream)
        time_base = getattr(stream, "time_base", None) or getattr(ctx, "time_base", None)
        self._setup(
            width=int(getattr(ctx, "width", 0) or 0),
            height=int(getattr(ctx, "height", 0) or 0),
            extradata=_extradata(stream),
            time_base=Fraction(time_base) if time_base else None,
        )

    @classmethod
    def from_parameters(
        cls, *, width: int, height: int, extradata: bytes | None, time_base: Fraction | None
    ) -> Fmp4Muxer:
        """A muxer from bare parameters, for sources not opened with PyAV."""
        muxer = cls.__new__(cls)
        muxer._setup(width=width, height=height, extradata=bytes(extradata or b""), time_base=time_base)
        return muxer

    def _setup(self, *, width: int, height: int, extradata: bytes, time_base: Fraction | None) -> None:
        self._width, self._height = width, height
        self._time_base = time_base
        self._sps, self._pps, self._length_size = _parse_extradata(extradata)
        self._init: bytes | None = None
        self._mime: str | None = None
        self._sequence = 0
        self._last_dts: int | None = None
        self._last_duration = TIMESCALE // 25  # until two frames give the real spacing
        self._started = False
        self._offset: int | None = None
        if self._sps and self._pps:
            self._make_init()

    @property
    def init_segment(self) -> bytes | None:
        """ftyp+moov, once the SPS and PPS are known (else None)."""
        return self._init

    @property
    def mime(self) -> str | None:
        """``video/mp4; codecs="avc1.PPCCLL"`` for MediaSource.addSourceBuffer, once known."""
        return self._mime

    @property
    def size(self) -> tuple[int, int]:
        return self._width, self._height

    def _make_init(self) -> None:
        info = parse_sps(self._sps[0])
        # the SPS is the truth: a container's width/height may be 0 (RTSP) or uncropped
        self._width, self._height = info.width or self._width, info.height or self._height
        self._mime = f'video/mp4; codecs="{info.codec_string}"'
        self._init = _init_segment(self._width, self._height, self._sps, self._pps)

    def _ticks(self, value: int | None, time_base: Fraction | None) -> int | None:
        if value is None:
            return None
        tb = time_base or self._time_base or Fraction(1, TIMESCALE)
        return round(value * tb * TIMESCALE)

    def mux(self, packet: Any) -> Fragment | None:
        """One fragment for a PyAV ``Packet`` (or None: before the first keyframe, or empty)."""
        return self.mux_bytes(
            bytes(packet),
            pts=packet.pts,
            dts=packet.dts,
            keyframe=bool(packet.is_keyframe),
            duration=packet.duration or None,
            time_base=packet.time_base,
        )

    def mux_bytes(
        self,
        data: bytes,
        *,
        pts: int | None,
        dts: int | None,
        keyframe: bool,
        duration: int | None = None,
        time_base: Fraction | None = None,
    ) -> Fragment | None:
        """One fragment for one access unit; times in `time_base` (default: the stream's)."""
        nals = [n for n in _split_nals(data, self._length_size) if n]
        if not nals:
            return None
        if self._init is None:
            sps = [n for n in nals if n[0] & 0x1F == _NAL_SPS]
            pps = [n for n in nals if n[0] & 0x1F == _NAL_PPS]
            if not (sps and pps):
                return None  # nothing decodable yet: wait for a keyframe with its parameter sets
            self._sps, self._pps = sps, pps
            self._make_init()
        keyframe = keyframe or any(n[0] & 0x1F == _NAL_IDR for n in nals)
        if not self._started and not keyframe:
            return None  # a decoder cannot start mid-GOP
        self._started = True
        dts_t = self._ticks(dts, time_base)
        pts_t = self._ticks(pts, time_base)
        if dts_t is None:
            dts_t = pts_t if pts_t is not None else (self._last_dts or 0) + self._last_duration
        if pts_t is None:
            pts_t = dts_t
        if self._offset is None:
            # MP4 sources with B-frames start their decode times below zero: shift the timeline
            # so that decode times (tfdt is unsigned) start at zero or later
            self._offset = max(0, -dts_t)
        dts_t += self._offset
        pts_t += self._offset
        if self._last_dts is not None:
            if dts_t <= self._last_dts:
                dts_t = self._last_dts + 1  # MSE refuses decode times that go backwards
            self._last_duration = max(1, min(dts_t - self._last_dts, TIMESCALE))
        # The frame leaves before the next one arrives, so its duration is the packet's own or
        # the last spacing seen: a constant frame rate makes that exact
        ticks = self._ticks(duration, time_base) if duration else None
        sample_duration = ticks or self._last_duration
        self._last_dts = dts_t
        # AUDs and filler help no MSE decoder; in-band SPS/PPS stay (harmless, and current)
        sample = b"".join(
            struct.pack(">I", len(n)) + n for n in nals if n[0] & 0x1F not in (_NAL_AUD, _NAL_FILLER)
        )
        self._sequence += 1
        data_out = _fragment(self._sequence, dts_t, sample_duration, pts_t - dts_t, keyframe, sample)
        return Fragment(data_out, keyframe, dts_t / TIMESCALE, pts_t / TIMESCALE)


# ----------------------------------------------------------------------------- the GOP cache

T = TypeVar("T")


class GopCache(Generic[T]):
    """What arrived since the last keyframe, the keyframe first: a viewer who joins gets it at once
    and can start decoding there rather than wait for the next keyframe. Bounded (`max_items`) so
    a source that never sends another keyframe cannot grow it without end."""

    def __init__(self, max_items: int = 600) -> None:
        self._items: list[T] = []
        self._max = max_items

    def push(self, item: T, *, keyframe: bool) -> None:
        if keyframe:
            self._items = [item]
        elif self._items:  # before the first keyframe nothing is decodable
            if len(self._items) >= self._max:
                self._items = []  # too long a GOP: a late viewer waits for the next keyframe
                return
            self._items.append(item)

    def snapshot(self) -> list[T]:
        """A copy: the keyframe, then every later item, in order (empty before any keyframe)."""
        return list(self._items)

    def clear(self) -> None:
        """Forget the GOP (the source dropped: its fragments belong to an old init segment)."""
        self._items = []

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._items))
