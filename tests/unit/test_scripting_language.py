# ruff: noqa: RUF001  (fixtures in many scripts use their own punctuation)
"""Language: explicit, else declared, else detected; codes a speech engine understands."""

from __future__ import annotations

import pytest

from narration.scripting.language import choose_lang, detect_lang, normalize_lang

ENGLISH = (
    "The two leaders agreed to maintain and develop cooperation between South Korea, the United "
    "States and Japan in order to respond to various geopolitical crises in the region. "
    "Ishiba was the second foreign leader Lee held a phone call with after taking office, "
    "following the American president. In the first phone call on June 9, the two leaders "
    "reached a consensus to create a more solid and mature relationship. Regarding whether the "
    "two sides discussed historical disputes, a senior presidential official said that such "
    "issues were mentioned but not the focus of talks. The first bilateral summit between the "
    "new Korean president and the Japanese prime minister comes earlier than previous such "
    "talks. Ahead of the trip there had been speculation that there could also be a trilateral "
    "meeting, but the American leader made an early exit from the summit on Monday night amid "
    "the escalating conflict in the Middle East. The national security adviser said in a press "
    "briefing on Tuesday night that the two leaders agreed that cooperation between longtime "
    "neighbors is important amid the turbulent international situation, and that they also "
    "exchanged opinions on the situation on the peninsula. Officials from both governments are "
    "expected to meet again before the end of the year to prepare for a visit to Tokyo, where "
    "trade, tourism and the exchange of students will top the agenda."
)
KOREAN = "이재명 대통령은 17일 캐나다에서 이시바 시게루 일본 총리와 첫 정상회담을 했다. " * 5
JAPANESE = (
    "先日、不正に改造したiPhoneを販売したとして、商標法違反の疑いで男性が逮捕されました。" * 5
)
RUSSIAN = "Эта диета пришла к нам с запада и в своё время произвела настоящий фурор. " * 5


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("en-US", "en"),
        ("ko_KR", "ko"),
        ("zh-Hant", "zh-TW"),
        ("zh-CN", "zh-CN"),
        ("zh", "zh-CN"),
        ("he", "he"),
        ("iw", "he"),
        ("jw", "jv"),
        ("tl", "fil"),
        ("zh-HK", "zh-TW"),
        ("pt-BR", "pt"),
        ("not a code!", None),
        (None, None),
    ],
)
def test_normalize(code: str | None, expected: str | None) -> None:
    assert normalize_lang(code) == expected


@pytest.mark.parametrize(
    ("text", "lang"), [(KOREAN, "ko"), (JAPANESE, "ja"), (RUSSIAN, "ru"), (ENGLISH, "en")]
)
def test_detection(text: str, lang: str) -> None:
    assert detect_lang(text)[0] == lang
    assert choose_lang(None, None, text) == lang


def test_explicit_beats_everything() -> None:
    assert choose_lang("ko", "en", ENGLISH) == "ko"


def test_declared_beats_detection_when_plausible() -> None:
    assert choose_lang(None, "en-GB", "Short text, maybe anything.") == "en"


def test_declaration_in_another_script_is_overruled() -> None:
    assert choose_lang(None, "en", KOREAN) == "ko"


def test_long_text_plainly_in_another_language_overrules_the_template() -> None:
    assert choose_lang(None, "de", ENGLISH) == "en"


def test_default_when_nothing_is_known() -> None:
    assert choose_lang(None, None, "ok", default="fr") == "fr"


def test_a_few_paragraphs_plainly_in_another_language_overrule_the_template() -> None:
    spanish = (
        "El Consejo de Ministros aprobó este martes la reforma del sistema de pensiones, que "
        "retrasará de forma gradual la edad de jubilación. La ministra defendió que los cambios "
        "garantizan la sostenibilidad del sistema durante las próximas décadas. Los sindicatos "
        "respaldaron el acuerdo, mientras que la patronal criticó el aumento de las cotizaciones."
    )
    assert choose_lang(None, "en", spanish) == "es"
    # Portuguese and Galician look alike to the detector: the page's word stands.
    assert choose_lang(None, "gl", spanish) == "gl"
    # A language the detector does not know is never overruled by it.
    assert choose_lang(None, "haw", spanish) == "haw"
