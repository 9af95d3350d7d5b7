"""The script stage: an article in any form -> what will be spoken, and what was dropped.

``load_article`` / ``parse_article`` / ``article_from_json`` read the three forms;
``build_script`` cleans, segments and respells them into a :class:`~narration.script.Script`.
"""

from narration.scripting.build import build_script
from narration.scripting.forms import article_from_json, load_article, parse_article

__all__ = ["article_from_json", "build_script", "load_article", "parse_article"]
