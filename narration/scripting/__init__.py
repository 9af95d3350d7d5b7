"""The script stage: an article in any form -> what will be spoken, and what was dropped.

``load_article`` / ``parse_article`` / ``article_from_json`` read the three forms;
``build_script`` cleans, segments and respells them into a :class:`~narration.script.Script`.

What a listener hears, where a choice had to be made:

- a social-media post the story embeds is read as "Posted by NAME: TEXT", without its handle,
  links and date line (an embed with no author or text is not read);
- plain text copied from a browser is read where the line model (``line_model``) places the
  story: menus, footers and related lists around it are dropped as page furniture;
- a table is read row by row ("2023-24 15 2 9"); a correction or editor's note is read;
- a standfirst that main-text extraction keeps is read after the headline;
- live-blog times, datelines, captions, credits and every other block in ``cleanup`` are not.

``skipped`` holds every dropped block with its reason: what cleanup dropped from the body, then
(for a whole HTML page) the visible text that extraction left out, at most 60 entries of 300
characters (``discarded``).
"""

from narration.scripting.build import build_script
from narration.scripting.forms import article_from_json, load_article, parse_article

__all__ = ["article_from_json", "build_script", "load_article", "parse_article"]
