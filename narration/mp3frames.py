"""MPEG audio Layer III frames: where each frame of an MP3 starts, and a short stretch of the
file cut out so that it decodes on its own, exactly as it does inside the whole file.

The stitch checks the true peak of its encoded file at a few places. Decoding the whole file
costs a tenth of the encode, and asking ffmpeg to seek to each place re-reads the file every
time (1.5 s for 30 minutes of audio). Cutting the frames around each place out of the bytes
and decoding them in-process costs well under a millisecond a place, but a Layer III frame
keeps part of its data in the frames before it (the bit reservoir): a cut-out stretch that
starts with a frame pointing back into frames that are not there decodes wrongly, and
libmpg123 prints its complaints to the process's standard error. So the stretch starts with
frames rewritten to carry no audio, which point back only as far as the rewritten frames
themselves reach, followed by a few frames of warm-up (the decoder's overlap and filter bank
state) and then the frames wanted: those decode sample for sample as in the whole file.
"""

from __future__ import annotations

import contextlib
import io
import mmap
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_BITRATES_V1 = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_BITRATES_V2 = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
WARM_UP_FRAMES = 4
"""Frames decoded and thrown away before the wanted ones: two were enough here, sample for
sample; four leave a margin."""


class Mp3FrameError(ValueError):
    """The bytes are not the mono, CRC-less Layer III stream that the stitch encodes."""


@dataclass(frozen=True)
class FrameIndex:
    """Byte offset of every audio frame of a Layer III stream, and its layout."""

    offsets: np.ndarray
    """Start of each frame, in file order (the encoder's Info frame, if any, included)."""
    sizes: np.ndarray
    samples_per_frame: int
    sample_rate: int
    mpeg1: bool

    def __len__(self) -> int:
        return int(self.offsets.size)

    @property
    def first_audio(self) -> int:
        """The first frame of audio: 1 when the encoder put its Info (Xing) frame first."""
        return 1 if self.has_info_frame else 0

    has_info_frame: bool = False


Data = bytes | mmap.mmap
"""A whole stream: in memory, or a file mapped (a long narration's MP3 stays out of RSS)."""


def index_frames(data: Data) -> FrameIndex:
    """Every frame of ``data`` (an ID3v2 tag in front is skipped). Raises Mp3FrameError for
    anything but mono Layer III frames without CRC, one sample rate throughout."""
    position = _after_id3(data)
    fixed = _fixed_size_frames(data, position)
    if fixed is not None:
        return fixed
    offsets: list[int] = []
    sizes: list[int] = []
    layout: tuple[bool, int] | None = None
    while position + 4 <= len(data):
        if data[position] == 0x54 and data[position : position + 3] == b"TAG":
            break  # an ID3v1 tag ends the stream
        mpeg1, rate, size = _header(data, position)
        if layout is None:
            layout = (mpeg1, rate)
        elif layout != (mpeg1, rate):
            raise Mp3FrameError("the stream changes its MPEG version or sample rate")
        offsets.append(position)
        sizes.append(size)
        position += size
    if layout is None:
        raise Mp3FrameError("no MPEG audio frame found")
    mpeg1, rate = layout
    side = offsets[0] + 4 + _side_info_size(mpeg1)
    return FrameIndex(
        np.asarray(offsets, dtype=np.int64),
        np.asarray(sizes, dtype=np.int64),
        1152 if mpeg1 else 576,
        rate,
        mpeg1,
        has_info_frame=data[side : side + 4] in (b"Info", b"Xing"),
    )


def _fixed_size_frames(data: Data, position: int) -> FrameIndex | None:
    """The index of a stream whose frames all have one size (constant bit rate, no padding:
    the stitch's default), found at once by checking every frame's header where it must be;
    ``None`` when any frame is not there."""
    if position + 4 > len(data):
        return None
    mpeg1, rate, size = _header(data, position)
    count = (len(data) - position) // size
    if count == 0 or data[position + 2] & 0x02:
        return None
    buffer = np.frombuffer(data, dtype=np.uint8)
    offsets = position + np.arange(count, dtype=np.int64) * size
    # Sync, version, layer, CRC, bit rate, sample rate, padding and the channel mode: the
    # rest (copyright, original) may differ between the Info frame and the audio.
    for byte, mask in enumerate((0xFF, 0xFF, 0xFE, 0xC0)):
        if not np.all(buffer[offsets + byte] & mask == data[position + byte] & mask):
            return None
    if position + count * size != len(data) and data[position + count * size :][:3] != b"TAG":
        return None  # a trailing stretch that is not a frame: walk the frames instead
    side = position + 4 + _side_info_size(mpeg1)
    return FrameIndex(
        offsets,
        np.full(count, size, dtype=np.int64),
        1152 if mpeg1 else 576,
        rate,
        mpeg1,
        has_info_frame=data[side : side + 4] in (b"Info", b"Xing"),
    )


def standalone_stretch(data: Data, index: FrameIndex, first: int, count: int) -> bytes:
    """Frames ``first`` to ``first + count`` of ``data`` behind enough silent and warm-up
    frames that a decoder gives them exactly as in the whole file; the decoded stretch starts
    with ``lead_frames(index, first)`` frames to throw away, and ends with one silent frame
    (the decoder's last overlap)."""
    lead, silent = _lead(index, first)
    start = first - lead
    end = min(len(index), first + count)
    out = bytearray(data[int(index.offsets[start]) : _end_of(index, end - 1)])
    reservoir = 0  # bytes of main data the silent frames so far hold for the next frame
    limit = _reservoir_limit(index.mpeg1)
    at = 0
    for n in range(silent):
        size = int(index.sizes[start + n])
        _silence(out, at, index.mpeg1, min(reservoir, limit))
        reservoir = min(reservoir, limit) + size - 4 - _side_info_size(index.mpeg1)
        at += size
    # libsndfile reads as many samples as it estimates from the bytes and the bit rate, which
    # padded frames make a few too few: one silent frame more at the end takes the shortfall.
    tail = bytearray(data[int(index.offsets[end - 1]) : _end_of(index, end - 1)])
    _silence(tail, 0, index.mpeg1, 0)
    return bytes(out + tail)


def lead_frames(index: FrameIndex, first: int) -> int:
    """How many frames :func:`standalone_stretch` puts before frame ``first``."""
    return _lead(index, first)[0]


def _lead(index: FrameIndex, first: int) -> tuple[int, int]:
    """(frames before ``first``, of which silent): silent frames that can hold a whole bit
    reservoir, then the warm-up. Near the start of the stream the stretch starts at its first
    audio frame instead, which points back at nothing."""
    if first < index.first_audio or first >= len(index):
        raise Mp3FrameError(f"frame {first} is not an audio frame of the stream")
    payload = int(index.sizes.min()) - 4 - _side_info_size(index.mpeg1)
    silent = 1 + -(-_reservoir_limit(index.mpeg1) // max(payload, 1))
    if first - index.first_audio < silent + WARM_UP_FRAMES:
        return first - index.first_audio, 0
    return silent + WARM_UP_FRAMES, silent


def _reservoir_limit(mpeg1: bool) -> int:
    """The longest reach back of main_data_begin, in bytes."""
    return 511 if mpeg1 else 255


def decode_stretch(stretch: bytes) -> np.ndarray:
    """Mono float samples of a cut-out stretch, in-process (libsndfile's mpg123)."""
    import soundfile

    samples, _rate = soundfile.read(io.BytesIO(stretch), dtype="float64", always_2d=True)
    return np.ascontiguousarray(samples.mean(axis=1))


def _after_id3(data: Data) -> int:
    if data[:3] != b"ID3" or len(data) < 10:
        return 0
    size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
    return 10 + size + (10 if data[5] & 0x10 else 0)


def _header(data: Data, at: int) -> tuple[bool, int, int]:
    b1, b2, b3 = data[at + 1], data[at + 2], data[at + 3]
    if data[at] != 0xFF or (b1 & 0xE0) != 0xE0:
        raise Mp3FrameError(f"lost frame sync at byte {at}")
    version, layer, no_crc = (b1 >> 3) & 3, (b1 >> 1) & 3, b1 & 1
    if version == 1 or layer != 1:
        raise Mp3FrameError("not MPEG audio Layer III")
    if not no_crc:
        raise Mp3FrameError("frames with CRC are not supported")
    if (b3 >> 6) != 3:
        raise Mp3FrameError("not a mono stream")
    bitrate_index, rate_index, padding = b2 >> 4, (b2 >> 2) & 3, (b2 >> 1) & 1
    if bitrate_index in (0, 15) or rate_index == 3:
        raise Mp3FrameError("free-format or reserved frame header")
    mpeg1 = version == 3
    bitrate = (_BITRATES_V1 if mpeg1 else _BITRATES_V2)[bitrate_index] * 1000
    rate = _RATES[version][rate_index]
    size = (144 if mpeg1 else 72) * bitrate // rate + padding
    return mpeg1, rate, size


def _side_info_size(mpeg1: bool) -> int:
    return 17 if mpeg1 else 9  # mono


def _end_of(index: FrameIndex, frame: int) -> int:
    return int(index.offsets[frame] + index.sizes[frame])


def _silence(frame: bytearray, at: int, mpeg1: bool, main_data_begin: int) -> None:
    """Rewrite the side information of the frame at ``at`` so that it carries no audio and
    takes ``main_data_begin`` bytes of reservoir from the frames before it (no bits read):
    part2_3_length, big_values and scalefac_compress zero in every granule."""
    side = (at + 4) * 8
    if mpeg1:
        _set_bits(frame, side, 9, main_data_begin)
        granules = [side + 18, side + 18 + 59]  # after private bits (5) and scfsi (4)
        compress = 4
    else:
        _set_bits(frame, side, 8, main_data_begin)
        granules = [side + 9]  # after one private bit
        compress = 9
    for granule in granules:
        _set_bits(frame, granule, 12 + 9, 0)  # part2_3_length, big_values
        _set_bits(frame, granule + 12 + 9 + 8, compress, 0)  # after global_gain


def _set_bits(buffer: bytearray, position: int, width: int, value: int) -> None:
    for n in range(width):
        bit = (value >> (width - 1 - n)) & 1
        byte, shift = divmod(position + n, 8)
        mask = 0x80 >> shift
        buffer[byte] = (buffer[byte] | mask) if bit else (buffer[byte] & ~mask)


# --- joining streams encoded separately ------------------------------------------------------
#
# A long narration is encoded in a few parts at once, one encoder per core, each part cut in a
# pause (see :mod:`narration.stitch`); the parts' frames are then put one after another under
# one Info frame. Each part starts from an empty bit reservoir, so the joined frames decode as
# they did apart. The Info frame (Xing header and LAME tag, as ffmpeg writes them) is the
# first part's, told about the whole: frame and byte counts, seek table, the last part's end
# padding, the music's length and CRC, and its own CRC.

_XING_FRAMES, _XING_BYTES, _XING_TOC = 8, 12, 16
_LAME = 120
_LAME_DELAY_PADDING, _LAME_MUSIC_LENGTH, _LAME_MUSIC_CRC, _LAME_TAG_CRC = 21, 28, 32, 34
TAG_CRC_SPAN = 190
"""The LAME tag's CRC covers the Info frame's first 190 bytes (its own field zero)."""


@dataclass(frozen=True)
class LameTag:
    """What the encoder's Info frame says of its stream."""

    delay: int
    """Samples the encoder put before the audio, as written (decoders add their own 529)."""
    padding: int
    """Samples after the audio in the last frame, as written."""
    music_length: int
    music_crc: int


def lame_tag(data: Data, index: FrameIndex) -> LameTag:
    """The LAME tag of the stream's Info frame; Mp3FrameError when it has none."""
    if not index.has_info_frame:
        raise Mp3FrameError("the stream has no Info frame")
    at = _xing_at(index) + _LAME
    if bytes(data[at : at + 4]) not in (b"LAME", b"Lavc", b"Lavf"):
        raise Mp3FrameError("the Info frame carries no LAME tag")
    packed = int.from_bytes(data[at + _LAME_DELAY_PADDING : at + _LAME_DELAY_PADDING + 3], "big")
    return LameTag(
        delay=packed >> 12,
        padding=packed & 0xFFF,
        music_length=int.from_bytes(data[at + _LAME_MUSIC_LENGTH : at + _LAME_MUSIC_LENGTH + 4]),
        music_crc=int.from_bytes(data[at + _LAME_MUSIC_CRC : at + _LAME_MUSIC_CRC + 2]),
    )


def join_files(parts: list[Path], out: Path) -> None:
    """Write to ``out`` the frames of every part (each an MP3 with an Info frame, one layout
    throughout) under one Info frame describing the whole stream."""
    with contextlib.ExitStack() as stack:
        maps = [
            stack.enter_context(mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ))
            for fh in (stack.enter_context(p.open("rb")) for p in parts)
        ]
        indexes = [index_frames(m) for m in maps]
        tags = [lame_tag(m, i) for m, i in zip(maps, indexes, strict=True)]
        layouts = {(i.mpeg1, i.sample_rate, int(i.sizes[0])) for i in indexes}
        if len(layouts) != 1:
            raise Mp3FrameError("the parts differ in MPEG version, sample rate or Info frame")
        first, info_size = indexes[0], int(indexes[0].sizes[0])
        audio = [int(i.offsets[-1] + i.sizes[-1]) - int(i.offsets[1]) for i in indexes]
        frames = sum(len(i) - 1 for i in indexes)
        total = info_size + sum(audio)
        music_crc = tags[0].music_crc
        for tag, length in zip(tags[1:], audio[1:], strict=True):
            music_crc = crc16_combine(music_crc, tag.music_crc, length)
        info = bytearray(maps[0][:info_size])
        xing = _xing_at(first)
        lame = xing + _LAME
        _put(info, xing + _XING_FRAMES, 4, frames)
        _put(info, xing + _XING_BYTES, 4, total)
        info[xing + _XING_TOC : xing + _XING_TOC + 100] = _seek_table(indexes, info_size, total)
        _put(info, lame + _LAME_DELAY_PADDING, 3, (tags[0].delay << 12) | tags[-1].padding)
        _put(info, lame + _LAME_MUSIC_LENGTH, 4, total)
        _put(info, lame + _LAME_MUSIC_CRC, 2, music_crc)
        _put(info, lame + _LAME_TAG_CRC, 2, 0)
        _put(info, lame + _LAME_TAG_CRC, 2, crc16(bytes(info[:TAG_CRC_SPAN])))
        with out.open("wb") as dst:
            dst.write(info)
            for path, index in zip(parts, indexes, strict=True):
                with path.open("rb") as src:
                    src.seek(int(index.offsets[1]))
                    shutil.copyfileobj(src, dst, 1 << 20)


def _put(buffer: bytearray, at: int, width: int, value: int) -> None:
    buffer[at : at + width] = value.to_bytes(width, "big")


def _xing_at(index: FrameIndex) -> int:
    return int(index.offsets[0]) + 4 + _side_info_size(index.mpeg1)


def _seek_table(indexes: list[FrameIndex], info_size: int, total: int) -> bytes:
    """The Xing seek table: for each percent of the frames, where it starts, in 256ths of the
    file."""
    starts: list[np.ndarray] = []
    base = info_size
    for index in indexes:
        offsets = index.offsets[1:] - index.offsets[1] + base
        starts.append(offsets)
        base += int(index.offsets[-1] + index.sizes[-1] - index.offsets[1])
    every = np.concatenate(starts)
    picks = every[(np.arange(100) * every.size) // 100]
    table = np.minimum(255, (256 * picks) // total).astype(np.uint8)
    table[0] = 0
    return table.tobytes()


def _crc_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _crc_table()


def crc16(data: bytes, crc: int = 0) -> int:
    """CRC-16/ARC (polynomial 0x8005, reflected, start 0): the LAME tag's and ffmpeg's."""
    for byte in data:
        crc = (crc >> 8) ^ _CRC_TABLE[(crc ^ byte) & 0xFF]
    return crc


def crc16_combine(crc_a: int, crc_b: int, length_b: int) -> int:
    """The CRC-16/ARC of A followed by B, from the CRCs of A and of B and B's length, without
    reading either (zlib's crc32_combine for this polynomial): the CRC is linear, so A's CRC
    pushed through ``length_b`` zero bytes, added to B's."""
    if length_b <= 0:
        return crc_a
    # The operator of one zero bit on the reflected register, as 16 columns.
    odd = [0xA001] + [1 << (n - 1) for n in range(1, 16)]
    even = _gf2_square(odd)  # two zero bits
    odd = _gf2_square(even)  # four zero bits
    n = length_b
    while True:
        even = _gf2_square(odd)  # first pass: one zero byte, then doubling
        if n & 1:
            crc_a = _gf2_times(even, crc_a)
        n >>= 1
        if not n:
            break
        odd = _gf2_square(even)
        if n & 1:
            crc_a = _gf2_times(odd, crc_a)
        n >>= 1
        if not n:
            break
    return crc_a ^ crc_b


def _gf2_times(matrix: list[int], vector: int) -> int:
    total, column = 0, 0
    while vector:
        if vector & 1:
            total ^= matrix[column]
        vector >>= 1
        column += 1
    return total


def _gf2_square(matrix: list[int]) -> list[int]:
    return [_gf2_times(matrix, column) for column in matrix]
