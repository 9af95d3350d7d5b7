"""Reading an article in any of its three forms: CMS JSON, an HTML page, plain text.

The form is decided from the content, not the file name: a JSON object is a CMS article, markup
is an HTML page, anything else that decodes as text is plain text as copied from a browser.

A CMS JSON article is one object whose keys and types are declared once, by
:class:`narration.contract.CmsArticle` (the same model the HTTP API documents and validates with):
``id``, ``title``, ``dek``, ``byline`` (a name or a list of names), ``section``, ``published``
(ISO 8601), ``lang`` (BCP 47), ``body_html`` and ``body``, ``canonical_url``, ``image_url``.

``body_html`` wins when both bodies are given. Unknown keys are kept in ``Article.extra``. A known
key with the wrong type raises :class:`~narration.errors.UnreadableArticle` naming the key.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from narration.article import Article
from narration.contract import CmsArticle, first_error
from narration.errors import UnreadableArticle
from narration.scripting import extract
from narration.settings import get_settings

# Signatures of common binary formats, for a clearer message than "cannot decode".
_MAGIC = {
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"PK\x03\x04": "a ZIP archive (or an office document)",
    b"ID3": "an MP3 file",
    b"\x1f\x8b": "a gzip archive",
}
_HTML_START = re.compile(rb"^\s*(<!doctype\s+html|<html|<\?xml|<!--|<head|<body|<meta)", re.I)
_HTML_TAG = re.compile(
    r"<(p|div|br|h[1-6]|ul|ol|li|blockquote|article|section|span|a)(\s[^>]*)?/?>", re.I
)
_ANY_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^>]*)?/?>")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_.:-]+)""", re.I)


def load_article(path: Path) -> Article:
    """Read an article file in any form; raise UnreadableArticle for what cannot be narrated."""
    limit = get_settings().max_article_bytes
    try:
        size = path.stat().st_size
        if size > limit:
            raise UnreadableArticle(f"the file is {size} bytes, over the limit of {limit}")
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableArticle(f"cannot read the file: {exc.strerror or exc}") from exc
    return parse_article(data, max_bytes=limit)


def parse_article(
    data: bytes,
    *,
    content_type: str | None = None,
    url: str | None = None,
    max_bytes: int | None = None,
) -> Article:
    """Parse an article from bytes (an API body or a pulled CMS response) in any form."""
    limit = get_settings().max_article_bytes if max_bytes is None else max_bytes
    if len(data) > limit:
        raise UnreadableArticle(f"the article is {len(data)} bytes, over the limit of {limit}")
    if not data.strip():
        raise UnreadableArticle("the article is empty")
    _refuse_binary(data)
    media = (content_type or "").split(";")[0].strip().lower()
    charset = _charset_param(content_type)

    if media.endswith("json") or (not media and data.lstrip()[:1] in (b"{", b"[")):
        text = _decode(data, charset)
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            if media.endswith("json") or not _looks_like_text_anyway(text):
                raise UnreadableArticle(f"invalid JSON: {exc.msg} at line {exc.lineno}") from exc
            return _text_article(text)
        if not isinstance(obj, dict):
            raise UnreadableArticle("a CMS JSON article must be a JSON object")
        return article_from_json(obj)

    if "html" in media or "xml" in media or (not media and _looks_like_html(data)):
        page = _decode(data, charset) if charset else decode_page(data)
        return extract.article_from_page(page, url=url)

    return _text_article(_decode(data, charset))


def article_from_json(obj: dict[str, Any]) -> Article:
    """Build an Article from a CMS JSON object (:class:`~narration.contract.CmsArticle`)."""
    if not isinstance(obj, dict):
        raise UnreadableArticle("a CMS JSON article must be a JSON object")
    try:
        cms = CmsArticle.model_validate(obj)
    except ValidationError as exc:
        field, message = first_error(exc)
        key = field.split(".")[0].split("[")[0] or "body"
        raise UnreadableArticle(message, field=key) from None
    fields: dict[str, Any] = {
        key: _stripped(getattr(cms, key))
        for key in ("title", "dek", "section", "lang", "canonical_url", "image_url")
    }
    fields["id"] = None if cms.id is None else str(cms.id).strip()
    fields["byline"] = _byline(cms.byline)
    fields["published"] = cms.published

    body_html, body = cms.body_html, cms.body
    chosen = body_html if body_html and body_html.strip() else body
    assert chosen is not None  # the model refuses an article without a body
    # Any tag makes a ``body_html`` markup ("<script>..</script>" alone is not text to read);
    # a ``body`` needs the tags of a story's markup.
    is_html = _ANY_TAG if chosen is body_html else _HTML_TAG
    if is_html.search(chosen):
        fields["body_html"] = chosen
    else:
        fields["body_text"] = chosen
    return Article(form="cms-json", extra=dict(cms.model_extra or {}), **fields)


def _text_article(text: str) -> Article:
    if not text.strip():
        raise UnreadableArticle("the article is empty")
    return Article(form="text", body_text=text)


def _stripped(value: str | None) -> str | None:
    return None if value is None else value.strip()


def _byline(value: str | list[str] | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    names = [v.strip() for v in value if v.strip()]
    if len(names) <= 1:
        return names[0] if names else None
    return ", ".join(names[:-1]) + " and " + names[-1]


def _refuse_binary(data: bytes) -> None:
    head = data[:8192]
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            raise UnreadableArticle(f"this is {what}, not an article")
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnreadableArticle("binary data, not an article")


def _charset_param(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = re.search(r"charset=\"?([A-Za-z0-9_.:-]+)", content_type, re.I)
    return match.group(1) if match else None


def decode_page(data: bytes) -> str:
    """An HTML page's text, in the charset its markup declares (as :func:`parse_article` reads
    a page, without extracting its story)."""
    return _decode(data, _declared_charset(data))


def _declared_charset(data: bytes) -> str | None:
    match = _META_CHARSET.search(data[:4096])
    return match.group(1).decode("ascii", "replace") if match else None


def _decode(data: bytes, charset: str | None) -> str:
    """Decode with the declared charset, else UTF-8 (with or without BOM), else a detected one."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if charset:
        try:
            return data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.chaos > 0.3:
        raise UnreadableArticle("the text cannot be decoded (unknown or mixed character encoding)")
    return str(best)


def _looks_like_html(data: bytes) -> bool:
    if _HTML_START.match(data):
        return True
    head = data[:65536].decode("utf-8", "replace")
    return len(_HTML_TAG.findall(head)) >= 3


def _looks_like_text_anyway(text: str) -> bool:
    """A plain-text article may start with a bracket ("[Updated] ...")."""
    return bool(re.search(r"[^\W\d_]{3,}\s+[^\W\d_]{3,}\s+[^\W\d_]{3,}", text[:500]))
