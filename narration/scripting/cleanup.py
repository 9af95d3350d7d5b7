"""Narration cleanup: drop every block a listener should not hear, each with a named reason.

Extraction (or a copy from a browser) leaves page furniture among the paragraphs: breadcrumbs,
tool bars, photo captions and credits, "Related Article" boxes, share and comment widgets,
newsletter and cookie notices, e-mail addresses, bylines. Each rule below recognises one kind
by its form, never by site; a rule returns the reason it drops a block, or ``None``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from narration.script import Skipped
from narration.scripting.blocks import TextBlock, normalize_space

# --- reasons (stable strings: they appear in `skipped`) ------------------------------------------
TITLE_REPEAT = "title repeated"
BREADCRUMB = "breadcrumb"
TOOLBAR = "page tool bar"
AUDIO_PLAYER = "audio player notice"
CAPTION = "photo caption"
CREDIT = "image credit"
REPEATED = "repeated block (caption printed twice)"
PULL_QUOTE = "repeated block (pull quote)"
RELATED = "related-articles box"
SHARE = "share or follow widget"
NEWSLETTER = "newsletter or subscription promo"
COOKIE = "cookie notice"
ADVERT = "advertisement"
COMMENTS = "comment widget"
BYLINE = "byline (spoken separately)"
EMAIL = "e-mail address"
AFTER_SIGNOFF = "after the story's sign-off"
NO_WORDS = "no words"
HEADLINE = "headline or standfirst above the story"
TIMESTAMP = "date or time stamp"
LINK = "bare link"
LEGAL = "copyright or reprint notice"
UI_MESSAGE = "interface message"
PROMO = "promotion"
CONTRIBUTORS = "contributor credit"
TAGS = "tag list"
ABOUT = "about-the-publisher boilerplate"
LINKS = "links to other pages"
AUTHOR_BIO = "author biography"
OUTSIDE_STORY = "page furniture (outside the story)"
PLACEHOLDER = "placeholder text (lorem ipsum)"

_EMAIL = re.compile(
    r"\[?\s*(?:[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\[?email(?:\s|&#160;|\u00a0)*protected\]?)\s*\]?",
    re.I,
)
_EMAIL_BRACKETS = re.compile(
    r"[\[(<]\s*(?:[\w.+-]+@[\w-]+(?:\.[\w-]+)+|email\s*protected)\s*[\])>]", re.I
)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_WORD_OR_NUMBER = re.compile(r"[^\W_]+", re.UNICODE)

# Words that make up tool bars: a block made only of these is furniture.
_TOOL_WORDS = {
    "print", "dictionary", "share", "shares", "email", "e-mail", "mail", "tweet", "twitter",
    "facebook", "linkedin", "whatsapp", "pinterest", "reddit", "telegram", "copy", "link",
    "save", "bookmark", "comment", "comments", "font", "size", "text", "a", "listen", "zoom",
    "reprint", "reprints", "permissions", "gift", "article", "this", "more", "close", "menu",
    "search", "subscribe", "login", "log", "in", "sign", "up", "icon", "image", "flipboard",
    "messenger", "sms", "line", "kakaotalk", "kakao", "naver", "band", "x", "url", "copied",
    "order", "by", "send", "sent", "thank", "you", "thanks", "pdf", "download",
}  # fmt: skip

_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december"
    "|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_TIMESTAMP = re.compile(
    rf"^(?:(?:updated|published|posted|last updated|first published(?: on)?|modified|on"
    rf"|입력|수정|등록|更新|公開|配信|veröffentlicht|aktualisiert|stand|publié le|mis à jour le"
    rf"|publicado|actualizado)\s*:?\s*)?"
    rf"(?:(?:mon|tues?|wed|thu|thurs|fri|sat|sun)\w*,?\s*)?"
    rf"(?:(?:\d{{1,4}}[./-]\d{{1,2}}[./-]\d{{1,4}})|(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s*\d{{0,4}}"
    rf"|\d{{1,2}}\.?\s+(?:{_MONTHS})\.?,?\s*\d{{0,4}}"
    # "2024年1月25日 18時30分", "2024년 3월 14일 오전 10:21"
    rf"|\d{{4}}\s*[年년]\s*\d{{1,2}}\s*[月월]\s*\d{{1,2}}\s*[日일](?:\s*\(\w\))?"
    rf"(?:\s*(?:오전|오후|午前|午後)?\s*\d{{1,2}}\s*[時시:]\s*\d{{1,2}}\s*[分분]?)?)"
    rf"(?:[,\s|@-]*(?:at\s*)?\d{{1,2}}[:.h]\d{{2}}(?:\s*[ap]\.?m\.?)?(?:\s*[a-z]{{2,4}})?)?\s*$"
    rf"|^(?:updated|published|posted)?\s*:?\s*\d+\s+(?:minutes?|mins?|hours?|hrs?|days?)\s+ago\s*$"
    # time first: "Updated: 10:42 AM EST, Mon April 1, 2024"
    rf"|^(?:(?:updated|published|posted)\s*:?\s*)?\d{{1,2}}[:.]\d{{2}}\s*(?:[ap]\.?m\.?)?\s*"
    rf"(?:[a-z]{{2,4}})?,?\s*(?:(?:mon|tues?|wed|thu|thurs|fri|sat|sun)\w*,?\s*)?"
    rf"(?:(?:{_MONTHS})\.?\s+\d{{1,2}},?\s*\d{{4}}|\d{{1,2}}\s+(?:{_MONTHS})\.?,?\s*\d{{4}})$"
    # the time of a live blog's post: "2:45 p.m. ET", "14:05 GMT", "10.42am"
    rf"|^\d{{1,2}}[:.]\d{{2}}\s*(?:[ap]\.?m\.?)?\s*(?:[a-z]{{2,4}}|\([a-z]{{2,4}}\))?$",
    re.I,
)
# One address or several (a list of sources pasted as one block): a listener can do nothing with
# an address read aloud.
_ADDRESS = r"(?:https?://|www\.)\S+"
_URL_ONLY = re.compile(rf"^{_ADDRESS}(?:\s+{_ADDRESS})*$|^[\w-]+(?:\.[\w-]+)+/?$", re.I)
_LEGAL = re.compile(
    r"(?:all rights reserved|non-commercial use|may not be (?:published|reproduced|redistributed)"
    r"|subscriber agreement|copyright \d{4}|© ?\d{4}|\u24d2|무단 ?전재|재배포 ?금지|저작권자"
    r"|無断(?:転載|複製)|版[权權]所有|alle rechte vorbehalten|tous droits réservés"
    r"|todos (?:los|os) derechos reservados|todos os direitos reservados|все права защищены"
    r"|order (?:presentation-ready )?(?:copies|reprints)|trust principles"
    r"|^this (?:article|story|piece) (?:was |is )?(?:originally published|first published"
    r"|originally appeared|first appeared|republished)\b)",
    re.I,
)
_UI_MESSAGE = re.compile(
    r"^(?:an error (?:has )?occurred|please try again|something went wrong"
    r"|thank you(?: for (?:reading|subscribing|signing up|your feedback))?[.!]?$"
    r"|this (?:article|story) (?:has been|was) sent to|loading\b|please enable javascript"
    r"|your browser does not support|click to (?:expand|enlarge|share|print|email|open|play)"
    r"|skip to (?:main )?(?:content|navigation|article)"
    r"|\d+\s*min(?:ute)?s?\.?\s+read\s*$|(?:estimated )?reading time\b|font size\b|text size\b"
    # what is left of a dateline once its <time> is gone: "Published · 4 min read"
    r"|(?:published|updated|posted)?\W*\d+\s*min(?:ute)?s?\.?\s+read\s*$"
    r"|(?:previous|next) (?:article|story|post|page)$|back to top$"
    r"|print (?:this )?(?:page|article|story)$)",
    re.I,
)
# A template's filler, left in a page's hidden tabs or unused slots: never part of a story.
_PLACEHOLDER = re.compile(r"^\W*lorem ipsum\b", re.I)
_PROMO = re.compile(
    r"(?:click here|if you (?:enjoyed|liked|value) this"
    r"|follow .{1,60} on (?:facebook|twitter|instagram|youtube|linkedin|tiktok)"
    r"|follow .{0,40}\bcoverage\b|^listen to .{1,40} live\b|^download (?:our|the) .{0,30}app"
    r"|we have a proposition for you|^join (?:now|today)\b|\bissues for [£$€]"
    r"|here'?s our e-?mail|e-?mail us\b|get unlimited access)",
    re.I,
)
_CONTRIBUTORS = re.compile(
    r"\b(?:contributed (?:to )?(?:this )?(?:report|reporting|research)"
    r"|contributed to this (?:report|story|article)|additional reporting by)\b"
    r"|^\W*with files from\b.{0,60}$",
    re.I,
)
_ABOUT = re.compile(r"^(?:about|über|à propos de|acerca de|sobre)\s+\S.{0,60}$", re.I)

_BREADCRUMB_SEPARATORS = re.compile(r"\s(?:>|»|\u203a|/|\|)\s")
_BRACKET_CREDIT = re.compile(r"[\[(]\s*[A-Z0-9][A-Z0-9 .,&'/\-]{2,}[\])]\s*$")
_CAPTION_PREFIX = re.compile(
    r"^(?:(?:image|media) caption|media playback is unsupported|(?:image|photo) copyright)\b"
    r"|^(?:photo|picture|image|pictured|illustration|graphic|video|caption|file photo|photograph)"
    r"(?:\s*\([^)]*\))?\s*[:|]",
    re.I,
)
_CREDIT = re.compile(
    r"^(?:(?:photo|image|picture|video|illustration|graphic)s?\s*(?:credit\b\s*[:/]?|[:/]|by\b)"
    r"|credit\s*(?::|\.\.\.|\u2026)|©|\(c\)|copyright\b|source\s*:)"
    r".{0,80}$",
    re.I,
)
_AGENCY_CREDIT = re.compile(
    r"(?:getty images|shutterstock|afp|ap photo|reuters|epa|associated press|xinhua|yonhap"
    r"|istock|alamy|efe)(?:/[\w .]+)?[\])]?\s*$",
    re.I,
)
_RELATED = re.compile(
    r"^(?:related(?: articles?| stories| content| posts?| coverage| news| reading| links?)?"
    r"|read (?:more|next|also)|see also|also read|more (?:on|from|about|stories|news)\b.*"
    r"|recommended(?: for you| stories| articles)?|you (?:may|might) also like.*"
    r"|most (?:read|popular|viewed)"
    r"|trending(?: now| stories)?|don'?t miss|editor'?s picks?|top stories|latest (?:news|stories)"
    r"|further reading|more in .{1,40}"
    # the same boxes in the other languages sites publish in
    r"|관련 ?기사|関連(?:記事|ニュース)|相[关關](?:新[闻聞]|[阅閱]读)|延伸[阅閱][读讀]"
    r"|mehr zum thema|lesen sie (?:auch|mehr)|weiterlesen|(?:à )?lire aussi|voir aussi"
    r"|lea también|leer más|ver también|leia (?:também|mais)|veja também|leggi anche"
    r"|читайте также|смотрите также)\s*[:.!]?$",
    re.I,
)
_RELATED_LEAD = re.compile(
    r"^(?:related|read more|read also|also read|see also|see more|more|recommended|watch|listen"
    r"|read|more on this|in pictures|pictured|related topics)"
    r"\s*:\s*",
    re.I,
)
_SHARE = re.compile(
    r"^(?:share (?:this|on|via)\b|share the (?:article|story|post|link)\b|share$"
    r"|follow (?:us|me) on\b|click here\b|tap here\b|like us on\b|join the conversation\b"
    r"|download (?:the|our) app\b"
    r"|copy (?:link|url)|link copied|공유하기|シェアする|teilen\b|partager\b|compartir\b"
    r"|compartilhar\b|поделиться)",
    re.I,
)
_NEWSLETTER = re.compile(
    r"(?:sign up (?:for|to)\b.{0,60}(?:newsletter|email|updates|alerts)"
    r"|^subscribe\b|newsletter\b.{0,40}(?:sign up|subscribe|inbox)"
    r"|get (?:the|our) .{0,40}newsletter|delivered (?:straight )?to your inbox"
    r"|already a subscriber|become a (?:member|subscriber)|support (?:our|independent) journalism)",
    re.I,
)
_COOKIE = re.compile(
    r"\b(?:cookies?|cookie policy|privacy policy)\b.{0,120}"
    r"\b(?:use|accept|consent|agree|settings)\b",
    re.I,
)
_ADVERT = re.compile(
    r"^(?:advertisement|advert|sponsored(?: content)?|ad|story continues below(?: advertisement)?"
    r"|article continues below(?: advertisement)?|scroll to continue(?: with content)?"
    r"|supported by|continue reading(?: the main story)?|skip (?:ad|advert)"
    r"|anzeige|werbung|publicité|publicidad|publicidade|pubblicità|реклама|광고|広告"
    r"|advertisement\s*[-\u2013\u2014:|]\s*(?:scroll to continue|continue reading(?: below)?"
    r"|story continues below))"
    r"\s*[:.]?$",
    re.I,
)
_COMMENT_WORD = (
    r"(?:comments?|comentários?|commentaires?|kommentare?|comentarios?|commenti|комментари\w*"
    r"|댓글|コメント)"
)
_COMMENTS = re.compile(
    r"(?:to (?:write|post|leave|add) (?:a )?comments?|log ?in to (?:\w+ ){0,4}(?:comment|connect)"
    r"|comments? (?:policy|guidelines|are closed|section)|join the discussion"
    r"|leave a (?:comment|reply)|be the first to comment|standards board policy"
    # a character counter under a comment box: "(0/250자)", "(0/1000 characters)"
    r"|\(\d+\s*/\s*\d{2,}\s*(?:자|字|chars?|characters|caract\w*)?\)"
    rf"|^\d+\s+{_COMMENT_WORD}$|^{_COMMENT_WORD}\s*(?:\(\d+\)|\d+)?\s*:?$"
    rf"|{_COMMENT_WORD}.{{0,150}}\bmodera[tdç]|\bmodera[tdç]\w*.{{0,150}}{_COMMENT_WORD})",
    re.I,
)
_AUDIO = re.compile(
    r"^(?:audio report\b|listen to (?:this|the) (?:article|story)\b|read by ai\b"
    r"|written by reporters, read by ai|audio (?:version|edition)\b|play audio\b|\d+:\d\d\s*$)",
    re.I,
)
_BYLINE = re.compile(
    r"^(?:by|BY|By|written by|reporting by|von|Von|VON|par|Par|PAR|por|Por|POR|di|Di)\s+"
    r"(?P<name>[^\W\d_][\w'\u2019.\-]*(?:\s+[^\W\d_][\w'\u2019.\-]*){0,3}"
    r"(?:\s*(?:,|and|&)\s*[^\W\d_][\w'\u2019.\-]*(?:\s+[^\W\d_][\w'\u2019.\-]*){0,3})*)"
    r"\s*(?:[\[(|,\u2013\u2014-].*)?$",
)

# For the line model: what a date line and the months look like.
MONTHS = _MONTHS
DATE_LINE = _TIMESTAMP

# Words after "By" that start a sentence, not a name.
_NOT_NAMES = {
    "the", "this", "that", "then", "now", "early", "late", "last", "next", "noon", "midnight",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "today",
    "tonight", "tomorrow", "yesterday", "morning", "evening", "contrast", "comparison", "far",
    "law", "design", "default", "mistake", "chance", "way", "all", "some", "many", "most",
    *_MONTHS.split("|"),
}  # fmt: skip
_NAME_PARTICLES = {"von", "van", "de", "da", "del", "der", "di", "le", "la", "bin", "al", "and"}

Rule = Callable[[TextBlock, "Context"], str | None]


@dataclass
class Context:
    title: str | None = None
    byline: str | None = None
    form: str = "text"
    found_byline: str | None = None


@dataclass
class Cleaned:
    blocks: list[TextBlock]
    skipped: list[Skipped] = field(default_factory=list)
    byline: str | None = None
    """A byline found among the blocks, when the article carried none."""


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def text_key(text: str) -> str:
    """The words of ``text`` in lower case, one space apart: two texts that differ only in
    punctuation, digits or spacing have the same key."""
    return " ".join(w.lower() for w in _words(text))


def _exact_key(text: str) -> str:
    """``text_key`` with the numbers kept: lines of a schedule differ only there
    ("September 10, 12pm, room 217, Dr Menke", then "September 17, ...")."""
    return " ".join(w.lower() for w in _WORD_OR_NUMBER.findall(text))


# --- per-block rules ------------------------------------------------------------------------


def no_words(block: TextBlock, ctx: Context) -> str | None:
    if block.tag == "row" and any(c.isdigit() for c in block.text):
        return None  # a table row of figures: "2023-24 15 2 9"
    return NO_WORDS if not _words(block.text) else None


def title_repeat(block: TextBlock, ctx: Context) -> str | None:
    if ctx.title and _similar(block.text, ctx.title):
        return TITLE_REPEAT
    return None


def breadcrumb(block: TextBlock, ctx: Context) -> str | None:
    parts = _BREADCRUMB_SEPARATORS.split(block.text)
    if len(parts) < 2 or len(block.text) > 120:
        return None
    if all(0 < len(_words(p)) <= 4 and not p.rstrip().endswith((".", "?", "!")) for p in parts):
        first = parts[0].strip().lower()
        if (
            first in {"home", "news", "start", "accueil", "inicio", "startseite", "홈", "ホーム"}
            or len(parts) >= 3
        ):
            return BREADCRUMB
    return None


def toolbar(block: TextBlock, ctx: Context) -> str | None:
    words = [w.lower() for w in _words(block.text)]
    if words and len(words) <= 12 and all(w in _TOOL_WORDS for w in words):
        return TOOLBAR
    return None


def audio_player(block: TextBlock, ctx: Context) -> str | None:
    return AUDIO_PLAYER if _AUDIO.search(block.text) else None


def caption(block: TextBlock, ctx: Context) -> str | None:
    text = block.text
    if _BRACKET_CREDIT.search(text) and not text.rstrip().endswith(")"):
        return CAPTION
    if _CAPTION_PREFIX.match(text) and len(text) < 400:
        return CAPTION
    return None


def credit(block: TextBlock, ctx: Context) -> str | None:
    text = block.text
    if len(text) <= 100 and _CREDIT.match(text):
        return CREDIT
    if len(_words(text)) <= 12 and _AGENCY_CREDIT.search(text) and not text.endswith("."):
        return CREDIT
    return None


def related(block: TextBlock, ctx: Context) -> str | None:
    text = block.text.strip()
    if len(text) <= 100 and _RELATED.match(text):
        return RELATED
    if _RELATED_LEAD.match(text) and len(_words(text)) <= 25:
        return RELATED
    return None


def share(block: TextBlock, ctx: Context) -> str | None:
    return SHARE if len(block.text) < 160 and _SHARE.match(block.text) else None


def newsletter(block: TextBlock, ctx: Context) -> str | None:
    return NEWSLETTER if len(block.text) < 300 and _NEWSLETTER.search(block.text) else None


def cookie(block: TextBlock, ctx: Context) -> str | None:
    return COOKIE if len(block.text) < 500 and _COOKIE.search(block.text) else None


def advert(block: TextBlock, ctx: Context) -> str | None:
    return ADVERT if _ADVERT.match(block.text) else None


def comments(block: TextBlock, ctx: Context) -> str | None:
    return COMMENTS if len(block.text) < 200 and _COMMENTS.search(block.text) else None


def byline(block: TextBlock, ctx: Context) -> str | None:
    name = byline_name(block.text)
    if name is None:
        return None
    if ctx.byline is None and ctx.found_byline is None:
        ctx.found_byline = name
    return BYLINE


def email_only(block: TextBlock, ctx: Context) -> str | None:
    """A short block that carries an e-mail address is a contact line, not the story."""
    if _EMAIL.search(block.text) and len(_words(_EMAIL.sub(" ", block.text))) <= 12:
        return EMAIL
    return None


def timestamp(block: TextBlock, ctx: Context) -> str | None:
    return TIMESTAMP if len(block.text) < 80 and _TIMESTAMP.match(block.text) else None


def link(block: TextBlock, ctx: Context) -> str | None:
    return LINK if _URL_ONLY.match(block.text.strip()) else None


def legal(block: TextBlock, ctx: Context) -> str | None:
    return LEGAL if len(block.text) < 400 and _LEGAL.search(block.text) else None


def ui_message(block: TextBlock, ctx: Context) -> str | None:
    return UI_MESSAGE if len(block.text) < 120 and _UI_MESSAGE.match(block.text) else None


def placeholder(block: TextBlock, ctx: Context) -> str | None:
    return PLACEHOLDER if _PLACEHOLDER.match(block.text) else None


def promo(block: TextBlock, ctx: Context) -> str | None:
    return PROMO if len(block.text) < 400 and _PROMO.search(block.text) else None


def contributors(block: TextBlock, ctx: Context) -> str | None:
    if len(block.text) < 300 and _CONTRIBUTORS.search(block.text):
        return CONTRIBUTORS
    return None


def tags(block: TextBlock, ctx: Context) -> str | None:
    """Keywords joined by commas, mostly lower case, no sentence: the page's tag cloud."""
    items = [i.strip() for i in block.text.split(",")]
    if len(items) < 4 or block.text.rstrip().endswith((".", "!", "?")):
        return None
    if all(0 < len(_words(i)) <= 6 for i in items):
        lower = sum(1 for i in items if i[:1].islower())
        if lower * 2 >= len(items):
            return TAGS
    return None


def links(block: TextBlock, ctx: Context) -> str | None:
    """A block that is nearly all link text points elsewhere: "Read more: ...", tag clouds,
    lists of related stories. Prose links only a few words."""
    # "Mehr zum Thema: <a>...</a>", "Lea también: <a>...</a>": a short lead, then only a link.
    lead, colon, rest = block.text.partition(":")
    linked = block.link_density * len(block.text)
    if colon and 0 < len(_words(lead)) <= 4 and rest.strip() and linked >= 0.9 * len(rest.strip()):
        return RELATED
    return LINKS if block.link_density >= 0.8 else None


BLOCK_RULES: tuple[Rule, ...] = (
    no_words,
    placeholder,
    title_repeat,
    breadcrumb,
    toolbar,
    audio_player,
    caption,
    credit,
    related,
    share,
    newsletter,
    cookie,
    advert,
    comments,
    byline,
    email_only,
    timestamp,
    link,
    legal,
    ui_message,
    promo,
    contributors,
    tags,
    links,
)


def byline_name(text: str) -> str | None:
    """The name(s) in a byline line ("BY SARAH KIM [sarah@x.com]" -> "Sarah Kim"), else None."""
    text = normalize_space(text)
    if len(text) > 120:
        return None
    match = _BYLINE.match(text)
    if not match:
        return None
    name = match.group("name").strip(" ,.")
    words = re.findall(r"[^\W\d_][\w'\u2019.\-]*", name)
    if any(w.lower().strip(".") in _NOT_NAMES for w in words):
        return None  # "By Tuesday, officials had left." is a sentence, not a byline
    if not all(w[0].isupper() or w.lower() in _NAME_PARTICLES for w in words):
        return None
    tail = text[match.end("name") :].strip()
    if tail.startswith(",") and (len(tail) > 40 or tail.endswith(".")):
        return None  # "By Kim, who ..." runs on into a sentence
    # Names in capitals are title-cased ("BY SARAH KIM"); a lone short word is an acronym ("AS").
    words = name.split()
    if len(words) > 1 or len(name) > 4:
        name = " ".join(w.title() if w.isupper() and w not in _AGENCIES else w for w in words)
    return name


# News agencies keep their capitals when a byline in capitals is title-cased ("BY AP").
_AGENCIES = {"AP", "AFP", "UPI", "DPA", "EFE", "ANSA", "PTI", "IANS", "ANI", "TASS", "CNN", "BBC"}


# --- whole-body rules -----------------------------------------------------------------------


def clean(blocks: list[TextBlock], ctx: Context) -> Cleaned:
    """Apply every rule; keep the blocks that are the story, in order."""
    reasons, _end = rule_reasons(blocks, ctx)
    skipped: list[Skipped] = []
    kept: list[TextBlock] = []
    for block, reason in zip(blocks, reasons, strict=True):
        if reason:
            skipped.append(Skipped(block.text, reason))
        else:
            kept.append(_strip_emails(block, skipped))
    return Cleaned(kept, skipped, ctx.found_byline)


def rule_reasons(blocks: list[TextBlock], ctx: Context) -> tuple[list[str | None], int]:
    """The reason each block is dropped by the rules (``None``: kept), and where the story
    ends (after a sign-off byline every block is ``AFTER_SIGNOFF``)."""
    reasons: list[str | None] = [None] * len(blocks)
    kept: list[TextBlock] = []
    repeats, keys = _repeated(blocks)
    heard: set[str] = set()
    in_about = False
    for index, block in enumerate(blocks):
        if block.role == "heading":
            in_about = bool(_ABOUT.match(block.text)) and kept != []
        reason = (
            repeats.get(index)
            or (PULL_QUOTE if _is_pull_quote(block, keys[index], heard) else None)
            or (ABOUT if in_about else None)
            or next((r for rule in BLOCK_RULES if (r := rule(block, ctx))), None)
            or (None if block.story else OUTSIDE_STORY)
            or _above_story(block, kept, ctx)
        )
        if reason == BYLINE and ctx.form == "text" and kept and _is_closing(index, blocks):
            # A sign-off byline ends the story: what follows is the page around it.
            reasons[index] = reason
            reasons[index + 1 :] = [AFTER_SIGNOFF] * (len(blocks) - index - 1)
            return reasons, index
        if not reason and index >= len(blocks) - 3 and _is_author_bio(block, ctx):
            reason = AUTHOR_BIO
        if reason == HEADLINE and _names_an_item(index, blocks):
            reason = None
        reasons[index] = reason
        if not reason:
            kept.append(block)
            heard.add(keys[index])
    _keep_linked_prose(blocks, reasons)
    return reasons, len(blocks)


def _names_an_item(index: int, blocks: list[TextBlock]) -> bool:
    """A short heading right above a paragraph, in a body with more headings below, names the
    first item of a list article ("1. Make a budget"), not the page's standfirst."""
    block = blocks[index]
    later = sum(1 for b in blocks[index + 1 :] if b.role == "heading")
    return (
        later >= 2
        and len(_words(block.text)) <= 12
        and index + 1 < len(blocks)
        and blocks[index + 1].role == "paragraph"
    )


def _keep_linked_prose(blocks: list[TextBlock], reasons: list[str | None]) -> None:
    """Paragraphs that are mostly link text between paragraphs of the story are the story too:
    the items of a deal round-up, a note with its links. A run of them is kept when story
    paragraphs stand on both sides of it; a linked heading, when the story stands above it
    and its paragraph below."""
    index = 0
    while index < len(blocks):
        if reasons[index] != LINKS or blocks[index].tag != "p":
            index += 1
            continue
        end = index
        while end < len(blocks) and reasons[end] == LINKS and blocks[end].tag == "p":
            end += 1
        if _story_paragraph(blocks, reasons, index - 1) and _story_paragraph(blocks, reasons, end):
            for inner in range(index, end):
                if len(_words(blocks[inner].text)) >= 3:
                    reasons[inner] = None
        index = end
    # A linked heading inside the story, right above a paragraph of it, names the next item of
    # a round-up ("1. Canon EOS R6 Mark II", linked to the shop), as an unlinked one would.
    for index, block in enumerate(blocks):
        if (
            reasons[index] == LINKS
            and block.role == "heading"
            and _story_paragraph(blocks, reasons, index + 1)
            and any(_story_paragraph(blocks, reasons, i) for i in range(max(index - 3, 0), index))
        ):
            reasons[index] = None


def _story_paragraph(blocks: list[TextBlock], reasons: list[str | None], index: int) -> bool:
    return (
        0 <= index < len(blocks)
        and reasons[index] is None
        and blocks[index].role == "paragraph"
        and len(_words(blocks[index].text)) >= 12
    )


def _above_story(block: TextBlock, kept: list[TextBlock], ctx: Context) -> str | None:
    """A heading before the first paragraph is the page's headline or standfirst: the title is
    spoken on its own. (A paragraph that repeats the page description is not dropped: many
    sites describe a story by its first paragraph. Nor is a sub-heading that the extraction
    read as a paragraph of the story, tag ``p``: a live blog's first post title.)"""
    if ctx.form != "html":
        return None  # a CMS body is the story alone: its first heading is a real one
    if (
        block.role == "heading"
        and block.tag != "p"
        and not any(b.role == "paragraph" for b in kept)
    ):
        return HEADLINE
    return None


def _similar(a: str, b: str) -> bool:
    ka, kb = text_key(a), text_key(b)
    if not ka or not kb:
        return False
    if ka == kb:
        return True
    wa, wb = set(ka.split()), set(kb.split())
    return len(wa & wb) / max(len(wa | wb), 1) >= 0.8


def _is_author_bio(block: TextBlock, ctx: Context) -> bool:
    """A closing line that names the author again ("Sarah Kim is a reporter covering ...")."""
    author = ctx.byline or ctx.found_byline
    if not author or len(block.text) > 300:
        return False
    first = re.split(r"\s*(?:,|\band\b|&)\s*", author)[0].strip()
    return bool(first) and bool(
        re.match(rf"{re.escape(first)}\s+(?:is|was|writes|covers|reports|has been)\b", block.text)
    )


def _is_closing(index: int, blocks: list[TextBlock]) -> bool:
    """A byline in the second half of the text signs the story off."""
    before = sum(len(b.text) for b in blocks[:index])
    return before > 0.5 * sum(len(b.text) for b in blocks)


def _repeated(blocks: list[TextBlock]) -> tuple[dict[int, str], list[str]]:
    """A paragraph printed twice in a row is a caption (shown under the photo and in the
    viewer): every copy goes, the same to the digit. Also each block's key for
    ``_is_pull_quote`` ("" for a table row: rows repeat by nature, a header row per table;
    they are not captions)."""
    reasons: dict[int, str] = {}
    keys = [_exact_key(b.text) if b.tag not in ("row", "cell") else "" for b in blocks]
    for index, key in enumerate(keys):
        if len(_words(key)) < 4:
            continue
        if (index + 1 < len(keys) and keys[index + 1] == key) or (
            index > 0 and keys[index - 1] == key
        ):
            reasons[index] = REPEATED
    return reasons, keys


def _is_pull_quote(block: TextBlock, key: str, heard: set[str]) -> bool:
    """A later repeat of a paragraph the listener has already heard is a pull quote: stories
    never say a paragraph twice. A repeat of what was not read (a table of contents' link, a
    teaser) is the story's own heading or paragraph, and stays. List items repeat by nature
    ("Portion: 1 green, 1 red" under every recipe)."""
    return key in heard and block.tag != "li" and len(_words(key)) >= 6


def _strip_emails(block: TextBlock, skipped: list[Skipped]) -> TextBlock:
    if not _EMAIL.search(block.text):
        return block
    for match in _EMAIL.finditer(block.text):
        skipped.append(Skipped(match.group(0).strip(), EMAIL))
    return replace(block, text=strip_emails_text(block.text))


def strip_emails_text(text: str) -> str:
    """``text`` without e-mail addresses (and the brackets around them)."""
    return normalize_space(_EMAIL.sub(" ", _EMAIL_BRACKETS.sub(" ", text)))
