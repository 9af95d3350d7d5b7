"""The HTTP contract: every request and response body of the API, declared once.

The service validates requests with these models, builds its answers through them, and generates
the components of its OpenAPI document from them (``service.openapi``); the CMS JSON article
reader (``narration.scripting.forms``) validates with :class:`CmsArticle`. A field's type, limit
and pattern are therefore written in one place and mean the same thing in the document, in the
validation and in the answers.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

from narration import vocabulary as v
from narration.catalog.models import NarrationState
from narration.failures import Category

NON_BLANK = r"\S"
"""JSON Schema ``pattern`` (a search, not a full match): at least one visible character."""

ArticleId = Annotated[str, StringConstraints(pattern=v.anchored(v.ARTICLE_ID_PATTERN))]
Lang = Annotated[
    str,
    StringConstraints(max_length=v.LANG_MAX_CHARS, pattern=v.anchored(v.LANG_PATTERN)),
    Field(description="BCP 47 language tag, e.g. en, ko, zh-TW; old codes (iw, jw) are read "
          "as their current ones."),
]  # fmt: skip
NonBlank = Annotated[str, StringConstraints(pattern=NON_BLANK)]


def _http_url(value: str) -> str:
    """The pattern checks the characters; an IPv6 literal host must also be an address."""
    host = urlsplit(value).netloc.rpartition("@")[2]
    if host.startswith("["):
        ipaddress.IPv6Address(host[1:].partition("]")[0])  # ValueError: not an address
    return value


def _iso_time(value: object) -> object:
    """ISO 8601 text only (``Z`` allowed): no numbers taken for timestamps."""
    if value is None or isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 string")
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"is not an ISO 8601 time: {value!r}") from None


IsoTime = Annotated[
    datetime,
    BeforeValidator(_iso_time),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class _Request(BaseModel):
    # Strict: a number is not a string, a string is not a list; unknown keys are ignored.
    model_config = ConfigDict(strict=True, extra="ignore")


class NarrationOptions(_Request):
    """How to narrate; in the JSON body or the query string (the body wins). ``null``: the
    default."""

    engine: v.EngineName | None = None
    voice: Annotated[str, StringConstraints(min_length=1, max_length=v.VOICE_MAX_CHARS)] | None = (
        None
    )
    lang: Lang | None = None
    priority: v.Priority | None = None
    callback_url: (
        Annotated[
            str,
            StringConstraints(max_length=v.URL_MAX_CHARS, pattern=v.anchored(v.HTTP_URL_PATTERN)),
            AfterValidator(_http_url),
            Field(
                json_schema_extra={"format": "uri"},
                description="POSTed a signed webhook when the narration is ready or failed.",
            ),
        ]
        | None
    ) = None


OPTION_NAMES: tuple[str, ...] = tuple(NarrationOptions.model_fields)


class OnDemandRequest(NarrationOptions):
    """Text or HTML to narrate now: exactly one of ``text`` and ``html``."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {"required": ["text"], "properties": {"text": {"type": "string"}}},
                {"required": ["html"], "properties": {"html": {"type": "string"}}},
            ]
        }
    )

    text: NonBlank | None = None
    html: NonBlank | None = None
    title: Annotated[str, StringConstraints(max_length=v.TITLE_MAX_CHARS)] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> OnDemandRequest:
        if (self.text is None) == (self.html is None):
            raise ValueError("send exactly one of text and html")
        return self


class BatchRequest(NarrationOptions):
    """Many stored (or pullable) articles to narrate, low priority unless told otherwise."""

    ids: Annotated[list[ArticleId], Field(min_length=1, max_length=v.MAX_BATCH)]


class CmsArticle(BaseModel):
    """A CMS JSON article. Every key is optional except a body: ``body_html`` (HTML, or text)
    wins over ``body`` (text, or HTML). Unknown keys are kept with the article."""

    model_config = ConfigDict(
        strict=True,
        extra="allow",
        json_schema_extra={
            "anyOf": [
                {"required": [key], "properties": {key: {"type": "string", "pattern": NON_BLANK}}}
                for key in ("body_html", "body")
            ]
        },
    )

    id: str | int | None = None
    title: str | None = None
    dek: str | None = Field(default=None, description="The standfirst / subheading.")
    byline: str | list[str] | None = None
    section: str | None = None
    published: IsoTime | None = None
    lang: str | None = Field(
        default=None,
        description="BCP 47 tag; one that is not a language is ignored and the language detected.",
    )
    body_html: str | None = None
    body: str | None = None
    canonical_url: str | None = None
    image_url: str | None = None

    @model_validator(mode="after")
    def _has_a_body(self) -> CmsArticle:
        if not any(text and text.strip() for text in (self.body_html, self.body)):
            raise ValueError("the article body is empty")
        return self


# --- answers ------------------------------------------------------------------------------------


class _Answer(BaseModel):
    # A key the model does not declare is left out, never a 500: add it here to answer it.
    model_config = ConfigDict(extra="ignore")


class Problem(_Answer):
    """RFC 9457 problem details: every error the API gives."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    field: str | None = Field(default=None, description="The request field at fault.")


class NarrationStatus(_Answer):
    """One narration (a version of an article's audio, or an on-demand one)."""

    id: str
    article_id: str | None
    version: int
    state: NarrationState
    chunks_done: int
    chunks_total: int
    audio_url: str | None
    transcript_url: str | None
    manifest_url: str | None
    duration_ms: int | None
    bytes: int | None
    engine: str
    voice: str | None
    lang: str
    error: str | None = Field(description="Why it failed, in plain words a newsroom can act on.")
    error_category: Category | None = Field(
        default=None, description="The kind of failure, for programs."
    )
    narration_key: str
    priority: str
    created_at: str | None = Field(json_schema_extra={"format": "date-time"})
    ready_at: str | None = Field(json_schema_extra={"format": "date-time"})
    stream_url: str | None = Field(
        default=None,
        description="While queued or running, once the first chunk exists: an HLS playlist of "
        "the chunks made so far, growing until complete. Null otherwise; play audio_url once "
        "ready.",
    )


class ArticleNarrationStatus(NarrationStatus):
    current_audio_url: str | None = Field(
        description="The audio served now: the previous version while this one is made."
    )


class ArticleAnswer(_Answer):
    id: str
    source: v.ArticleSource
    title: str | None
    byline: str | None
    section: str | None
    lang: str | None
    published: str | None = Field(json_schema_extra={"format": "date-time"})
    canonical_url: str | None
    image_url: str | None
    content_hash: str
    updated_at: str | None = Field(json_schema_extra={"format": "date-time"})
    narration: NarrationStatus | None
    audio_url: str | None


class BatchItem(_Answer):
    id: str
    status: int = Field(description="What narrating this article alone would have answered.")
    state: NarrationState | None = None
    narration_id: str | None = None
    status_url: str | None = None
    error: str | None = None


class BatchAnswer(_Answer):
    results: list[BatchItem]


class Health(_Answer):
    status: Literal["ok", "ready", "unavailable"]
    checks: dict[str, str] = Field(default_factory=dict)


class PlayerAudio(NarrationStatus):
    read_along_url: str | None = Field(
        default=None, description="The timed sentences the player highlights."
    )


class PlayerStatus(_Answer):
    """What the player polls: the audio to play now and the progress of a newer version."""

    article_id: str
    lang: str
    title: str
    byline: str | None
    image_url: str | None
    state: NarrationState | Literal["none"] = Field(description="``none``: never narrated.")
    audio: PlayerAudio | None
    pending: NarrationStatus | None


REQUESTS: tuple[type[BaseModel], ...] = (
    NarrationOptions,
    OnDemandRequest,
    BatchRequest,
    CmsArticle,
)
ANSWERS: tuple[type[BaseModel], ...] = (
    Problem,
    NarrationStatus,
    ArticleNarrationStatus,
    ArticleAnswer,
    BatchAnswer,
    Health,
    PlayerStatus,
)


def field_path(loc: tuple[int | str, ...]) -> str:
    """``("ids", 1)`` -> ``ids[1]``; ``("body", "title")`` -> ``body.title``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def first_error(error: ValidationError) -> tuple[str, str]:
    """The field at fault (``""`` for the object as a whole) and a readable message."""
    detail = error.errors(include_url=False)[0]
    loc = tuple(part for part in detail["loc"] if not _is_union_branch(part))
    message = str(detail["msg"]).removeprefix("Value error, ")
    name = field_path(loc)
    if not name:
        return name, message
    phrase = _PHRASES.get(str(detail["type"]))
    return name, f"'{name}' {phrase}" if phrase else f"{name}: {message}"


_PHRASES = {
    "string_type": "must be a string",
    "list_type": "must be a list",
    "int_type": "must be an integer",
    "bool_type": "must be true or false",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "missing": "is required",
}


def _is_union_branch(part: int | str) -> bool:
    # pydantic names the branch of a union it tried (``str``, ``list[str]``, ``constrained-str``)
    return isinstance(part, str) and (
        "[" in part or part in {"str", "int", "constrained-str", "function-after", "literal"}
    )
