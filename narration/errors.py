"""Errors a user can act on. Each carries a one-line message fit for a CLI or an API client."""

from __future__ import annotations


class NarrationError(Exception):
    """Base of every error that is the input's fault or the environment's, never a bug."""

    field: str | None = None

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class UnreadableArticle(NarrationError):
    """The input is not an article we can narrate: empty, binary, undecodable, no text, too big."""


class EngineError(NarrationError):
    """A speech engine failed."""


class TransientEngineError(EngineError):
    """Worth retrying: HTTP 429, 5xx, time-outs, dropped connections."""


class PermanentEngineError(EngineError):
    """Retrying will not help: bad language, bad voice, a 4xx other than 429."""


class EngineUnreachable(TransientEngineError):
    """The engine's host cannot be reached at all; ``auto`` falls back to the offline engine."""
