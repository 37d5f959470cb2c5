"""Russian typed in Latin letters is spelt back in Cyrillic, whichever common spelling was used."""

from __future__ import annotations

import pytest

from bot.core.translit import cyrillic


@pytest.mark.parametrize(
    ("latin", "russian"),
    [
        ("kak vstupit v set", "как вступит в сет"),
        ("obuchayushchikhsya", "обучающихся"),
        ("obuchajushchihsja", "обучающихся"),
        ("zhelayu podpisat'sya", "желаю подписаться"),
        ("kakoy novyy", "какой новый"),
        ("premiyu", "премию"),
        ("tsena chlenstva?", "цена членства?"),
        ("kak nazyvaetsya set", "как называется сет"),
        ("gorodu stanovitsya", "городу становится"),
    ],
)
def test_common_translit_spellings_read_as_cyrillic(latin: str, russian: str) -> None:
    assert cyrillic(latin) == russian


def test_names_the_russian_faq_writes_in_latin_stay_latin() -> None:
    assert cyrillic("chto takoe UNESCO GNLC", keep={"unesco", "gnlc"}) == "что такое unesco gnlc"
