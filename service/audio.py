"""``GET /audio/<key>.mp3|.json|.vtt``: the content-addressed narration files.

A key names one file's bytes forever, so answers are ``immutable`` for a year, carry the key as
their ETag (``If-None-Match`` → 304) and honour ``Range`` (206, or 416 past the end) — Safari's
first request is ``bytes=0-1``. In production nginx serves ``/audio/`` straight from the store
and these views are not reached. With ``NARRATOR_AUDIO_ACCEL_PREFIX`` set, the view only checks
access (e.g. subscriber-only audio with ``NARRATOR_AUDIO_REQUIRES_KEY``) and hands the sending
to nginx with ``X-Accel-Redirect``.
"""

from __future__ import annotations

from flask import Blueprint, Response, request, send_file

from narration.vocabulary import AUDIO_KEY
from service.auth import bearer_key, key_is_valid
from service.context import audio_store, current_settings
from service.errors import ApiError

bp = Blueprint("audio", __name__)

MEDIA_TYPES = {
    "mp3": "audio/mpeg",
    "json": "application/json",
    "vtt": "text/vtt; charset=utf-8",
}
ONE_YEAR_S = 31_536_000


def check_access() -> None:
    settings = current_settings()
    if not settings.audio_requires_key:
        return
    key = bearer_key() or request.args.get("key")
    if not key_is_valid(key, settings):
        raise ApiError(
            401,
            "this audio needs an API key (Authorization: Bearer <key> or ?key=)",
            field="Authorization",
            headers={"WWW-Authenticate": 'Bearer realm="narrator"'},
        )


@bp.get("/audio/<key>.<ext>")
def audio_file(key: str, ext: str) -> Response:
    if ext not in MEDIA_TYPES or not AUDIO_KEY.fullmatch(key):
        raise ApiError(404, "no such audio file", field="key")
    check_access()
    settings = current_settings()
    path = audio_store().audio_path(key, ext)
    if not path.is_file():
        raise ApiError(404, "no such audio file", field="key")

    # As nginx does in production (deploy/nginx.conf): players and read-along widgets on the
    # publisher's pages fetch the audio, transcript and manifest from another origin.
    cors = {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Expose-Headers": "Content-Length, Content-Range, Accept-Ranges",
    }
    visibility = "private" if settings.audio_requires_key else "public"
    cache_control = f"{visibility}, max-age={ONE_YEAR_S}, immutable"
    if settings.audio_accel_prefix:
        response = Response(status=200, mimetype=None)
        response.headers["Content-Type"] = MEDIA_TYPES[ext]
        response.headers["X-Accel-Redirect"] = (
            f"{settings.audio_accel_prefix.rstrip('/')}/{key}.{ext}"
        )
        response.headers["Cache-Control"] = cache_control
        response.headers.update(cors)
        return response

    if "," in request.headers.get("Range", ""):
        # Several ranges would need a multipart answer; a server may ignore Range, so the
        # whole file is sent (200) rather than refusing a request that is valid.
        request.environ.pop("HTTP_RANGE", None)
    response = send_file(
        path,
        mimetype=MEDIA_TYPES[ext],
        conditional=True,
        etag=f"{key}.{ext}",
        last_modified=path.stat().st_mtime,
        max_age=ONE_YEAR_S,
    )
    response.headers["Cache-Control"] = cache_control
    response.headers["Accept-Ranges"] = "bytes"
    response.headers.update(cors)
    return response
