"""Failures in plain words with a category, whatever shape the exception arrives in."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from celery.exceptions import ChordError

from narration.engines.base import http_error
from narration.errors import EngineUnreachable, PermanentEngineError, UnreadableArticle
from narration.failures import Category, RateLimitedTooLong, classify, plain, store_failure
from narration.store import AudioStore
from workers.failures import failure_for, is_infrastructure, unwrap


@pytest.mark.parametrize(
    ("exc", "category"),
    [
        (http_error("gtts", 403, "Forbidden"), Category.TTS_REFUSED),
        (http_error("gtts", 400, "Bad Request"), Category.TTS_REJECTED),
        (http_error("gtts", 429, "Too Many Requests"), Category.TTS_RATE_LIMITED),
        (RateLimitedTooLong("gtts: HTTP 429"), Category.TTS_RATE_LIMITED),
        (http_error("gtts", 503, "Unavailable"), Category.TTS_UNAVAILABLE),
        (EngineUnreachable("gtts: cannot reach http://10.0.0.1/x"), Category.TTS_UNAVAILABLE),
        (OSError(errno.ENOSPC, "No space left on device"), Category.STORE_FULL),
        (OSError(errno.EROFS, "Read-only file system"), Category.STORE_UNWRITABLE),
        (PermissionError(errno.EACCES, "Permission denied"), Category.STORE_UNWRITABLE),
        (UnreadableArticle("the article has no text"), Category.ARTICLE_UNREADABLE),
        (KeyError("chunks"), Category.INTERNAL),
    ],
)
def test_each_failure_has_its_category(exc: BaseException, category: Category) -> None:
    assert classify(exc).category == category


def test_messages_never_show_paths_urls_task_ids_or_class_names() -> None:
    leaky = [
        OSError(errno.ENOSPC, "No space left on device: '/srv/audio/.stitch-1.raw'"),
        PermanentEngineError("gtts cannot speak language 'xx' at https://translate.example/x"),
        KeyError("/srv/audio/plans/abc.json"),
        RuntimeError("Dependency 364864c5-8c1e-4d0e-9d4b-0d6f0f7c2a11 raised KeyError('x')"),
    ]
    for exc in leaky:
        message = classify(exc).message
        for leak in ("/srv", "https://", "364864c5", "Error", "KeyError", "OSError"):
            assert leak not in message, message


def test_plain_removes_paths_and_urls() -> None:
    assert plain("cannot read /srv/a/b.json from http://x.example/y") == (
        "cannot read a file from the service"
    )


def test_a_chord_error_is_unwrapped_to_the_chunk_that_failed() -> None:
    refused = ChordError(
        "Dependency 364864c5-8c1e-4d0e-9d4b-0d6f0f7c2a11 raised "
        "PermanentEngineError('gtts: HTTP 403 Forbidden (refused)')"
    )
    cause = unwrap(refused)
    assert isinstance(cause, PermanentEngineError)
    assert classify(cause).category == Category.TTS_REFUSED
    full = unwrap(ChordError("Dependency abc raised OSError(28, 'No space left on device')"))
    assert isinstance(full, OSError) and full.errno == errno.ENOSPC


def test_outages_are_left_to_the_reconciler() -> None:
    import redis

    assert is_infrastructure(redis.ConnectionError("refused"))
    assert is_infrastructure(unwrap(ChordError("GroupResult abc no longer exists")))
    assert is_infrastructure(unwrap(ChordError("Dependency a raised ConnectionError('x')")))
    assert not is_infrastructure(http_error("gtts", 403))


def test_an_unexplained_failure_with_the_store_full_is_put_down_to_the_store(
    tmp_path: Path,
) -> None:
    store = AudioStore(tmp_path)
    # A full disk shows up in many guises: ffmpeg writes nothing, an empty chunk is refused.
    assert failure_for(ValueError("refusing to store an empty chunk"), store).category == (
        Category.INTERNAL
    )
    full = store_failure(1024)
    assert full is not None and full.category == Category.STORE_FULL
    assert store_failure(10**12) is None
