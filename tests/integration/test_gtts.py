"""The gTTS engine end to end against the local stand-in of Google's endpoint."""

from __future__ import annotations

import pytest

from narration.engines import get_engine
from narration.errors import EngineUnreachable, PermanentEngineError, TransientEngineError
from narration.settings import Settings
from tests.fakes.gtts_server import GttsStandIn

pytestmark = pytest.mark.integration


@pytest.fixture
def gtts_settings(settings: Settings, gtts_server: GttsStandIn) -> Settings:
    return settings.model_copy(update={"gtts_endpoint": gtts_server.url, "gtts_timeout": 2.0})


def test_speaks_each_piece_as_google_is_asked(
    gtts_settings: Settings, gtts_server: GttsStandIn
) -> None:
    engine = get_engine("gtts", gtts_settings)
    text = (
        "The harbor bridge reopened on Monday after two years of repairs, "
        "and traffic was light in the morning rush."
    )
    pcm = engine.synthesize(text, voice="com", lang="en", speed=1.0)
    assert pcm.rate == 24_000
    assert 2_000 < pcm.duration_ms < 12_000
    # gTTS splits text over 100 characters at punctuation: one request per piece, the pieces
    # sent together (so in any order).
    assert sorted(gtts_server.texts) == [
        "The harbor bridge reopened on Monday after two years of repairs",
        "and traffic was light in the morning rush.",
    ]
    assert gtts_server.requests == 2


@pytest.mark.parametrize("mode", ["429", "5xx"])
def test_rate_limits_and_server_errors_are_transient(
    gtts_settings: Settings, gtts_server: GttsStandIn, mode: str
) -> None:
    gtts_server.mode = mode
    with pytest.raises(TransientEngineError) as caught:
        get_engine("gtts", gtts_settings).synthesize("Hello.", voice="com", lang="en", speed=1.0)
    assert not isinstance(caught.value, EngineUnreachable)
    assert ("429" if mode == "429" else "503") in str(caught.value)


def test_retry_after_is_passed_on(gtts_settings: Settings, gtts_server: GttsStandIn) -> None:
    gtts_server.mode, gtts_server.retry_after = "429", "7"
    with pytest.raises(TransientEngineError) as caught:
        get_engine("gtts", gtts_settings).synthesize("Hello.", voice="com", lang="en", speed=1.0)
    assert caught.value.retry_after == 7.0  # type: ignore[attr-defined]


def test_a_slow_answer_times_out_as_transient(
    gtts_settings: Settings, gtts_server: GttsStandIn
) -> None:
    gtts_server.mode, gtts_server.latency = "latency", 1.5
    slow = gtts_settings.model_copy(update={"gtts_timeout": 0.5})
    with pytest.raises(TransientEngineError, match="in time"):
        get_engine("gtts", slow).synthesize("Hello.", voice="com", lang="en", speed=1.0)


def test_latency_within_the_timeout_is_fine(
    gtts_settings: Settings, gtts_server: GttsStandIn
) -> None:
    gtts_server.mode, gtts_server.latency = "latency", 0.2
    pcm = get_engine("gtts", gtts_settings).synthesize("Hello.", voice="com", lang="en", speed=1.0)
    assert pcm.samples.size > 0


def test_unreachable_host(settings: Settings) -> None:
    closed = settings.model_copy(update={"gtts_endpoint": "http://127.0.0.1:9"})
    with pytest.raises(EngineUnreachable, match="cannot reach"):
        get_engine("gtts", closed).synthesize("Hello.", voice="com", lang="en", speed=1.0)


def test_other_client_errors_are_permanent(
    gtts_settings: Settings, gtts_server: GttsStandIn
) -> None:
    gtts_server.fail_next(403)
    with pytest.raises(PermanentEngineError, match="403"):
        get_engine("gtts", gtts_settings).synthesize("Hello.", voice="com", lang="en", speed=1.0)


def test_unknown_language_or_voice_is_permanent(gtts_settings: Settings) -> None:
    engine = get_engine("gtts", gtts_settings)
    with pytest.raises(PermanentEngineError, match="language"):
        engine.resolve_voice(None, "xx")
    with pytest.raises(PermanentEngineError, match="voice"):
        engine.resolve_voice("../evil", "en")
    assert engine.resolve_voice("co.uk", "en-GB") == "co.uk"


def test_a_dropped_connection_is_transient_not_unreachable(settings: Settings) -> None:
    """A host that accepts and then closes without answering is there: retried, and ``auto``
    does not hand the article to the offline voice for it."""
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def accept_and_drop() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)

    thread = threading.Thread(target=accept_and_drop, daemon=True)
    thread.start()
    dropping = settings.model_copy(update={"gtts_endpoint": f"http://127.0.0.1:{port}"})
    try:
        with pytest.raises(TransientEngineError, match="dropped the connection") as caught:
            get_engine("gtts", dropping).synthesize("Hello.", voice="com", lang="en", speed=1.0)
        assert not isinstance(caught.value, EngineUnreachable)
    finally:
        thread.join(timeout=10)
        listener.close()
