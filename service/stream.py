"""``GET /stream/<narration_key>.m3u8`` and its segments: a narration playable while it is made.

The playlist grows as chunks are synthesized (see :mod:`narration.progressive`); the status of
a queued or running narration links it as ``stream_url`` once its first chunk is stored. Segment
names are content hashes, so segments are cached for a year; the playlist is not cached until
it is complete. With ``NARRATOR_AUDIO_ACCEL_PREFIX`` set, nginx sends the segment bytes.
"""

from __future__ import annotations

from flask import Blueprint, Response, send_file

from narration.plan import NarrationPlan
from narration.progressive import (
    MEDIA_TYPE,
    SEGMENT_MEDIA_TYPE,
    build_segment,
    find_segment,
    first_audio_ready,
    is_complete,
    ready_segments,
    render_playlist,
    segment_path,
)
from narration.vocabulary import AUDIO_KEY, STREAM_SEGMENT
from service.audio import ONE_YEAR_S, check_access
from service.context import audio_store, current_settings
from service.errors import ApiError

bp = Blueprint("stream", __name__)


def stream_url(base_url: str, narration_key: str) -> str:
    return f"{base_url}/stream/{narration_key}.m3u8"


def stream_url_if_playable(base_url: str, narration_key: str | None) -> str | None:
    """The stream's URL once its first chunk can be played, else ``None``."""
    if not narration_key or not first_audio_ready(audio_store(), narration_key):
        return None
    return stream_url(base_url, narration_key)


def _plan(narration_key: str) -> NarrationPlan:
    if not AUDIO_KEY.fullmatch(narration_key):
        raise ApiError(404, "no such stream", field="narration_key")
    try:
        return audio_store().load_plan(narration_key)
    except (FileNotFoundError, ValueError):  # ValueError: a plan of an older format
        raise ApiError(404, "no such stream", field="narration_key") from None


@bp.get("/stream/<narration_key>.m3u8")
def playlist(narration_key: str) -> Response:
    check_access()
    plan = _plan(narration_key)
    segments = ready_segments(plan, audio_store())
    body = render_playlist(plan, segments, lambda s: f"{narration_key}/{s.name}.ts")
    response = Response(body, mimetype=MEDIA_TYPE)
    # Growing: players reload it; once closed it never changes again (but is small to ask for).
    response.headers["Cache-Control"] = (
        "public, max-age=3600" if is_complete(plan, segments) else "no-cache, no-store"
    )
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/stream/<narration_key>/<segment>.ts")
def stream_segment(narration_key: str, segment: str) -> Response:
    check_access()
    if not STREAM_SEGMENT.fullmatch(segment):
        raise ApiError(404, "no such segment", field="segment")
    plan = _plan(narration_key)
    store = audio_store()
    found = find_segment(plan, store, segment)
    if found is None:
        raise ApiError(404, "no such segment (yet)", field="segment")
    settings = current_settings()
    path = build_segment(plan, store, found, settings)
    visibility = "private" if settings.audio_requires_key else "public"
    cache_control = f"{visibility}, max-age={ONE_YEAR_S}, immutable"
    if settings.audio_accel_prefix:
        response = Response(status=200, mimetype=None)
        response.headers["Content-Type"] = SEGMENT_MEDIA_TYPE
        relative = segment_path(store, found).relative_to(store.root)
        response.headers["X-Accel-Redirect"] = (
            f"{settings.audio_accel_prefix.rstrip('/')}/{relative.as_posix()}"
        )
        response.headers["Cache-Control"] = cache_control
        return response
    response = send_file(
        path,
        mimetype=SEGMENT_MEDIA_TYPE,
        conditional=True,
        etag=found.digest,
        max_age=ONE_YEAR_S,
    )
    response.headers["Cache-Control"] = cache_control
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
