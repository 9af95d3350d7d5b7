"""The stitch's MP3 encode: one ffmpeg, or one per core on parts cut in the narration's pauses.

The encode is the floor of stitching (LAME is single-threaded: about 4 s for 30 minutes of
speech here). A long narration is cut into as many parts as there are cores, each cut inside
a pause, and the parts are encoded at once and their frames joined under one Info frame
(:func:`narration.mp3frames.join_files`). Nothing is heard at the cuts and every sample stays
where the timeline put it:

- a part ends at a frame boundary inside its pause, its length a whole number of frames, and
  is fed :data:`PART_GAP` samples short, all of them pause: its encoder then pads its last
  frame with exactly one frame's worth (576 samples) beyond the decoder's 529, and the next
  part's encoder starts with its start-up delay (1105 samples: 576 written in its tag, plus
  the decoder's 529). Together they fill the 1681 samples left out;
- the next part starts at the sample where the part before ends;
- each part's encoder starts with an empty bit reservoir, so the joined frames decode as they
  did apart.

A decoder that honours the joined file's Info frame (every player; ffmpeg, libmpg123) then
gives exactly the timeline's samples. Each encoder's tag is checked for the delay and padding
this relies on; if an ffmpeg build differs, the narration is encoded once, whole.
"""

from __future__ import annotations

import contextlib
import logging
import mmap
import os
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from narration import mp3frames
from narration.audio import AudioToolError
from narration.records import StitchSpec

log = logging.getLogger(__name__)

INPUT_RATE = 24_000
"""The rate of the PCM the stitch feeds (:data:`narration.audio.CHUNK_RATE`)."""
LAME_DELAY = 1105
"""Samples before the audio in a LAME stream as decoders skip them: 576 written in the
encoder's tag plus the 529 of the decoder's own delay."""
FRAME = 576
"""Samples in a frame of MPEG-2 Layer III, the format at :data:`INPUT_RATE`."""
PART_GAP = LAME_DELAY + FRAME
"""Samples of pause a part that ends at a frame boundary is fed short by: LAME, given a part
of ``k`` frames less this, writes ``k`` frames whose decoded end padding is one frame, and the
next part's start-up delay is :data:`LAME_DELAY`."""
PART_MIN_S = 30.0
"""No part shorter than this: below it, an encoder's start-up costs more than it saves."""
MAX_PARTS = 4

PcmOf = Callable[[int, int], Iterator[bytes]]
"""The narration's PCM (s16le, mono, :data:`INPUT_RATE`) from sample ``start`` to ``end``."""


def encode_mp3(
    ffmpeg: str,
    spec: StitchSpec,
    pcm: PcmOf,
    total: int,
    pauses: list[tuple[int, int]],
    out: Path,
) -> None:
    """Encode the ``total`` samples of ``pcm`` to ``out``, in parts at once where the machine
    has cores to spare and ``pauses`` (start, end in samples) offer places to cut."""
    cuts = plan_cuts(total, pauses, spec.sample_rate, parts_wanted(total))
    if not cuts:
        encode_part(ffmpeg, spec, pcm(0, total), out)
        return
    try:
        _encode_in_parts(ffmpeg, spec, pcm, total, cuts, out)
    except mp3frames.Mp3FrameError as exc:
        log.warning("encoding the narration whole: its parts could not be joined (%s)", exc)
        encode_part(ffmpeg, spec, pcm(0, total), out)


def parts_wanted(total: int) -> int:
    """One part per core the process may use, none under :data:`PART_MIN_S`."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, MAX_PARTS, int(total / INPUT_RATE // PART_MIN_S)))


def plan_cuts(total: int, pauses: list[tuple[int, int]], rate: int, parts: int) -> list[int]:
    """Where the parts start (samples, the first part's start 0 left out): in the pauses
    nearest the even shares of ``total``, each at a frame boundary of its part with room for
    the next encoder's delay before it. Empty when the narration is encoded whole: one part
    wanted, or an output rate other than the input's (a resampler's delay would move the
    cut)."""
    if parts < 2 or rate != INPUT_RATE:
        return []
    frame = FRAME
    cuts: list[int] = []
    start = 0
    for share in range(1, parts):
        target = total * share // parts
        best: int | None = None
        for pause_start, pause_end in pauses:
            # The frame boundary of this part nearest the pause's middle, away from the sound
            # on either side, with the gap's worth of pause before it.
            middle = (pause_start + pause_end) // 2
            cut = start + frame * round((middle - start) / frame)
            cut = max(cut, start + frame * -(-(pause_start + PART_GAP - start) // frame))
            if cut > pause_end or cut - start < frame * 8 or total - cut < frame * 8:
                continue
            if best is None or abs(cut - target) < abs(best - target):
                best = cut
        if best is None or best <= start:
            return []
        cuts.append(best)
        start = best
    return cuts


def _encode_in_parts(
    ffmpeg: str, spec: StitchSpec, pcm: PcmOf, total: int, cuts: list[int], out: Path
) -> None:
    bounds = list(zip([0, *cuts], [*cuts, total], strict=True))
    with tempfile.TemporaryDirectory(prefix="encode-", dir=out.parent) as tmp:
        paths = [Path(tmp) / f"part-{n}.mp3" for n in range(len(bounds))]
        last = len(bounds) - 1
        with ThreadPoolExecutor(len(bounds)) as pool:
            jobs = [
                # Every part but the last is fed short by the gap the encoders fill.
                pool.submit(
                    encode_part, ffmpeg, spec, pcm(a, b - PART_GAP if n < last else b), path
                )
                for n, ((a, b), path) in enumerate(zip(bounds, paths, strict=True))
            ]
            for job in jobs:
                job.result()
        for n, path in enumerate(paths[:-1]):
            _check_part(path, n)
        mp3frames.join_files(paths, out)


def _check_part(path: Path, n: int) -> None:
    """A part that is not followed seamlessly by the next (an encoder whose delay or end
    padding is not LAME's) cannot be joined."""
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        tag = mp3frames.lame_tag(data, mp3frames.index_frames(data))
    # As written in the tag: the decoder's 529 samples are counted in both.
    if tag.delay + 529 != LAME_DELAY or tag.padding != FRAME + 529:
        raise mp3frames.Mp3FrameError(
            f"part {n}: encoder delay {tag.delay} and padding {tag.padding}, not 576 and 1105"
        )


def encode_part(ffmpeg: str, spec: StitchSpec, pcm: Iterator[bytes], out: Path) -> None:
    """Encode ``pcm`` to ``out`` with one ffmpeg, fed through a pipe as it is made."""
    args = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error"]
    args += ["-f", "s16le", "-ar", str(INPUT_RATE), "-ac", "1", "-i", "pipe:0"]
    args += ["-ar", str(spec.sample_rate), "-ac", "1"]
    args += ["-c:a", "libmp3lame", "-b:a", f"{spec.bitrate_kbps}k"]
    args += ["-compression_level", str(spec.encoder_quality)]
    # ffmpeg writes the LAME header (gapless: encoder delay and padding) by seeking back, so the
    # output is a file, never a pipe.
    args += ["-id3v2_version", "0", "-y", "-f", "mp3", str(out)]
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(args, stdin=subprocess.PIPE, stderr=errors)
        assert proc.stdin is not None
        try:
            for data in pcm:
                proc.stdin.write(data)
            proc.stdin.close()
        except BrokenPipeError:
            pass  # ffmpeg stopped reading: its exit status and message say why
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        if proc.wait() != 0:
            errors.seek(0)
            lines = errors.read().decode(errors="replace").strip().splitlines()
            raise AudioToolError(f"ffmpeg failed: {lines[-1] if lines else proc.returncode}")
