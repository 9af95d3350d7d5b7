"""Who may write: ``Authorization: Bearer <key>`` with a key from ``NARRATOR_API_KEYS``.

Without keys configured the service is in laptop mode: writes are accepted from loopback only
(the startup log says so), and refused from anywhere else rather than left open.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import request

from narration.settings import Settings
from service.context import current_settings
from service.errors import ApiError

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


def bearer_key() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def key_is_valid(key: str | None, settings: Settings) -> bool:
    if not key:
        return False
    # Compare against every key, in constant time, so timing reveals nothing.
    matches = [hmac.compare_digest(key.encode(), known.encode()) for known in settings.api_keys]
    return any(matches)


FORWARDING_HEADERS = ("X-Forwarded-For", "X-Real-IP", "Forwarded")


def _forwarded_for(value: str) -> list[str]:
    """The ``for=`` addresses of an RFC 7239 ``Forwarded`` header, brackets and ports removed."""
    found = []
    for element in value.split(","):
        for pair in element.split(";"):
            name, _, token = pair.strip().partition("=")
            if name.lower() != "for":
                continue
            token = token.strip().strip('"')
            if token.startswith("["):
                token = token[1:].partition("]")[0]
            elif token.count(":") == 1:
                token = token.partition(":")[0]
            found.append(token)
    return found


def request_hops() -> list[str]:
    """Every address the request claims to come from or through: the socket peer (as it was
    before ``ProxyFix`` rewrote it) and each hop named in a forwarding header."""
    original = request.environ.get("werkzeug.proxy_fix.orig", {})
    hops = [original.get("REMOTE_ADDR") or request.environ.get("REMOTE_ADDR") or ""]
    for header in FORWARDING_HEADERS:
        for value in request.headers.getlist(header):
            if header == "Forwarded":
                hops.extend(_forwarded_for(value))
            else:
                hops.extend(part.strip() for part in value.split(","))
    return hops


def from_loopback() -> bool:
    """True only when every hop is loopback. A remote client cannot pass as local by sending
    ``X-Forwarded-For: 127.0.0.1`` (with or without ``ProxyFix``), and a local proxy does not
    make its remote clients local."""
    try:
        return all(ipaddress.ip_address(hop).is_loopback for hop in request_hops())
    except ValueError:
        return False


def check_write() -> None:
    """Raise 401/403 unless this request may write."""
    settings = current_settings()
    if not settings.api_keys:
        if from_loopback():
            return
        raise ApiError(
            403,
            "no API keys are configured, so writes are accepted from loopback only",
            field="Authorization",
        )
    key = bearer_key()
    if key is None:
        raise ApiError(
            401,
            "this request needs Authorization: Bearer <key>",
            field="Authorization",
            headers={"WWW-Authenticate": 'Bearer realm="narrator"'},
        )
    if not key_is_valid(key, settings):
        raise ApiError(
            401,
            "the API key is not valid",
            field="Authorization",
            headers={"WWW-Authenticate": 'Bearer realm="narrator", error="invalid_token"'},
        )


def write_access(view: F) -> F:
    """Decorate a view that changes anything."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        check_write()
        return view(*args, **kwargs)

    wrapper.requires_key = True  # type: ignore[attr-defined]  # read by the OpenAPI test
    return cast(F, wrapper)


def log_auth_mode(settings: Settings) -> None:
    if settings.api_keys:
        log.info("writes need one of %d API keys (Bearer)", len(settings.api_keys))
    else:
        log.warning(
            "NARRATOR_API_KEYS is not set: writes are accepted from loopback (127.0.0.1, ::1) "
            "only, without a key"
        )
