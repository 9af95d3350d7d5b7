"""From an Article to a Script: blocks, cleanup, language, sections, sentences, lexicon."""

from __future__ import annotations

import re

from narration.article import Article
from narration.errors import UnreadableArticle
from narration.script import Paragraph, Script, Section, Sentence, Skipped
from narration.scripting import cleanup, extract, line_model
from narration.scripting.blocks import TextBlock, normalize_space, text_blocks
from narration.scripting.language import choose_lang
from narration.scripting.lexicon import Lexicon, load_lexicon
from narration.scripting.sentences import split_sentences
from narration.settings import Settings, get_settings

_LEADING_BY = re.compile(r"^(?:by|von|par|por|di)\s+", re.I)
# A job title after the name: "김민준 기자" (reporter), "山田太郎 記者".
_TRAILING_TITLE = re.compile(r"\s*(?:기자|특파원|선임기자|논설위원|記者|特派員|编辑|記者)$")


def build_script(article: Article, *, source: str, settings: Settings | None = None) -> Script:
    """The narration script of ``article``; raises UnreadableArticle when nothing can be read."""
    settings = settings or get_settings()
    title, blocks, ctx = prepared(article)
    skipped: list[Skipped] = []
    cleaned = cleanup.clean(blocks, ctx)
    skipped.extend(cleaned.skipped)
    body = [b for b in cleaned.blocks if b.role == "paragraph"]
    if not body:
        raise UnreadableArticle("no readable text in the article")
    size = sum(len(b.text) for b in cleaned.blocks)
    if size > settings.max_body_chars:
        raise UnreadableArticle(
            f"the body is {size} characters, over the limit of {settings.max_body_chars}"
        )

    byline = _tidy_byline(article.byline or cleaned.byline)
    explicit = article.lang if article.form == "cms-json" else None
    declared = article.lang if article.form == "html" else None
    lang = choose_lang(explicit, declared, " ".join(b.text for b in body), settings.lang)
    lexicon = load_lexicon(settings.lexicon_path)
    if not title:
        title = _first_sentence(body[0].text, lang)
    sections = _sections(cleaned.blocks, lang, lexicon, skipped)
    skipped.extend(page_discarded(article))

    return Script(
        source=source,
        title=title,
        byline=byline,
        lang=lang,
        sections=sections,
        skipped=skipped,
        title_spoken=lexicon.apply(title, lang),
        byline_spoken=lexicon.apply(byline, lang) if byline else None,
        dek=article.dek,
        section_name=article.section,
        published=article.published,
        canonical_url=article.canonical_url,
        image_url=article.image_url,
    )


def prepared(article: Article) -> tuple[str, list[TextBlock], cleanup.Context]:
    """The title, the body blocks before cleanup and the cleanup context of ``article``."""
    blocks = article_blocks(article)
    title = normalize_space(article.title or "")
    if not title and blocks and blocks[0].role == "heading":
        title, blocks = blocks[0].text, blocks[1:]
    elif not title and article.form != "html":
        title, blocks = _title_from_first_block(blocks)
    return (
        title,
        blocks,
        cleanup.Context(title=title or None, byline=article.byline, form=article.form),
    )


def article_blocks(article: Article) -> list[TextBlock]:
    """The body of any form as blocks, before cleanup."""
    if article.form == "html" and article.body_html and extract.is_whole_page(article.body_html):
        return list(extract.extract_page(article.body_html, url=article.canonical_url).blocks)
    if article.body_html is not None:
        return extract.fragment_blocks(article.body_html)
    blocks = text_blocks(article.body_text or "")
    if article.form == "text":
        # A copy of a whole page: the line model tells the story from the page around it.
        for block, story in zip(blocks, line_model.story_lines(blocks), strict=True):
            block.story = story
    return blocks


def page_discarded(article: Article) -> list[Skipped]:
    """What main-text extraction left out of an HTML page (nothing for the other forms)."""
    if article.form == "html" and article.body_html and extract.is_whole_page(article.body_html):
        return list(extract.extract_page(article.body_html, url=article.canonical_url).discarded)
    return []


def _title_from_first_block(blocks: list[TextBlock]) -> tuple[str, list[TextBlock]]:
    """Plain text starts with its headline: the first short line that is not page furniture
    (a copy from a browser may start with a breadcrumb or a tool bar). Furniture before it
    stays in the body for cleanup to drop and record."""
    probe = cleanup.Context()
    for index, block in enumerate(blocks[:5]):
        if any(rule(block, probe) for rule in cleanup.BLOCK_RULES):
            continue
        if len(blocks) > index + 1 and len(block.text) <= 200 and not block.text.endswith("."):
            return block.text, blocks[:index] + blocks[index + 1 :]
        break
    return "", blocks


def _tidy_byline(byline: str | None) -> str | None:
    """The names to say after "By": page metadata often carries a job title, an agency in
    brackets, several authors joined by semicolons, a profile URL or a CMS user name."""
    if not byline:
        return None
    text = _URL.sub(" ", cleanup.strip_emails_text(normalize_space(byline)))
    names = []
    # Page metadata lists several authors with semicolons ("Maria Chen; David Osei").
    parts = [p for p in text.split(";") if p.strip(" ,;|-")]
    for part in parts:
        part = _ROLE.sub("", _LEADING_BY.sub("", part.strip(" ,;|-")))
        if len(parts) > 1 and _PUBLISHER.fullmatch(part):
            continue  # "Jill Disis; CNN Business": the outlet is not an author
        if len(part.split()) > 3:
            part = _PUBLISHER.sub("", part)  # "ERIC TUCKER Associated Press"
        # "Jane Doe, Staff Writer", "Jane Doe (Reuters)": the byline grammar keeps the name.
        name = cleanup.byline_name(f"By {part}") or part
        name = _TRAILING_TITLE.sub("", name).strip(" ,;|-")
        if name and name.lower() not in _NOT_AUTHORS:
            names.append(name)
    if len(names) > 1:
        return ", ".join(names[:-1]) + " and " + names[-1]
    return names[0] if names else None


# A job title after the name: "Jane Doe, Staff Writer", "Hannah Mercer, Environment correspondent".
_ROLE = re.compile(
    r"\s*[,|\u2013\u2014-]\s*[\w .&]{0,40}\b(?:writer|correspondent|reporter|editor|contributor"
    r"|columnist|producer|photographer|analyst|chief|staff|intern|critic)s?\b.*$",
    re.I,
)
_PUBLISHER = re.compile(
    r"\s*(?:(?:the )?associated press|reuters|afp|bloomberg|cnn(?: business)?|business insider)$",
    re.I,
)
_URL = re.compile(r"(?:https?://|www\.)\S+", re.I)
# CMS account names that stand in for an author.
_NOT_AUTHORS = {"admin", "administrator", "staff", "editor", "webmaster", "guest", "user", "root"}


def _first_sentence(text: str, lang: str) -> str:
    sentences = split_sentences(text, lang)
    return sentences[0] if sentences else text


def _sections(
    blocks: list[TextBlock], lang: str, lexicon: Lexicon, skipped: list[Skipped]
) -> list[Section]:
    sections: list[Section] = [Section(heading=None, paragraphs=[])]
    for block in blocks:
        if block.role == "heading":
            sections.append(Section(heading=_sentence(block.text, lang, lexicon), paragraphs=[]))
            continue
        sentences = [_sentence(s, lang, lexicon) for s in split_sentences(block.text, lang)]
        if sentences:
            sections[-1].paragraphs.append(Paragraph(sentences))
    # A heading may introduce sub-headings; only the ones that end the body say nothing.
    while sections and not sections[-1].paragraphs:
        empty = sections.pop()
        if empty.heading is not None:
            skipped.append(Skipped(empty.heading.text, "heading with no text under it"))
    return sections


def _sentence(text: str, lang: str, lexicon: Lexicon) -> Sentence:
    return Sentence(text=text, spoken=lexicon.apply(text, lang))
