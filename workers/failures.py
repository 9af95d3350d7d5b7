"""From what Celery hands an error callback to a failure a newsroom can read.

A chord reports a failed chunk to the stitch's error callback as ``ChordError('Dependency
<task id> raised PermanentEngineError(...)')``: the cause is taken back out of it, so the
narration says what the chunk said. Errors of the infrastructure itself (Redis or the catalog
unreachable, a chord's group lost with Redis) fail nothing: the reconciler resends the work.
"""

from __future__ import annotations

import ast
import os
import re
import shutil

from narration import errors, failures, sources
from narration.failures import Category, Failure
from narration.store import AudioStore

_DEPENDENCY = re.compile(r"^Dependency \S+ raised (\w+)\((.*)\)\s*$", re.S)

_KNOWN: dict[str, type[BaseException]] = {
    cls.__name__: cls
    for cls in (
        errors.NarrationError,
        errors.UnreadableArticle,
        errors.EngineError,
        errors.TransientEngineError,
        errors.PermanentEngineError,
        errors.EngineUnreachable,
        failures.RateLimitedTooLong,
        sources.ArticleSourceError,
        OSError,
        PermissionError,
        FileNotFoundError,
        ValueError,
    )
}

INFRASTRUCTURE = frozenset(
    {
        "ConnectionError",  # redis-py, requests' is never seen here (engines map it)
        "ConnectionRefusedError",
        "ConnectionResetError",
        "BusyLoadingError",
        "ReadOnlyError",  # a Redis replica during a failover
        "OperationalError",  # kombu, SQLAlchemy
        "InterfaceError",
        "ChordError",  # what is left of one after unwrapping: its group was lost with Redis
    }
)


class _Unknown(Exception):
    """An exception a chord reported by name, of a class not known here."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


def unwrap(exc: BaseException) -> BaseException:
    """The exception that really failed the job."""
    if type(exc).__name__ != "ChordError":
        return exc
    match = _DEPENDENCY.match(str(exc))
    if match is None:
        return exc
    name, raw_args = match.groups()
    try:
        args = ast.literal_eval(f"({raw_args},)") if raw_args.strip() else ()
    except (ValueError, SyntaxError):
        args = (raw_args,)
    cls = _KNOWN.get(name)
    if cls is None:
        return _Unknown(name, " ".join(str(a) for a in args))
    try:
        return cls(*args)
    except TypeError:
        return _Unknown(name, " ".join(str(a) for a in args))


def is_infrastructure(exc: BaseException) -> bool:
    name = exc.name if isinstance(exc, _Unknown) else type(exc).__name__
    return name in INFRASTRUCTURE or any(
        cls.__name__ in INFRASTRUCTURE
        for cls in type(exc).__mro__
        if cls.__module__.split(".")[0] in ("redis", "kombu", "sqlalchemy")
    )


def failure_for(exc: BaseException, store: AudioStore) -> Failure:
    """The category and message for ``exc``; an unexplained failure with the store full or
    unwritable is put down to the store (a full disk shows up in many guises)."""
    failure = failures.classify(exc)
    if failure.category != Category.INTERNAL:
        return failure
    try:
        free = shutil.disk_usage(store.root).free
    except OSError:
        free = None
    full = failures.store_failure(free)
    if full is not None:
        return full
    if store.root.exists() and not os.access(store.root, os.W_OK):
        return failures.classify(PermissionError(13, "Permission denied"))
    return failure
