"""The documented normalisation rule for blind-indexed names."""

import pytest

from privacy.cipher.normalise import normalise_name


@pytest.mark.parametrize(
    ("variants", "expected"),
    [
        (["Müller", "MUELLER", "muller", "Mueller", " müller  "], "muller"),
        (["Straße", "STRASSE", "Strasse"], "strasse"),
        (["Öztürk", "OEZTUERK", "Ozturk", "oztürk"], "ozturk"),
        (["Şahin", "Sahin", "ŞAHİN"], "sahin"),
        (["Yıldız", "Yildiz", "YILDIZ"], "yildiz"),
        (["Al-Masri", "Al Masri", "al  masri", "AL‑MASRI"], "al masri"),
        (["O'Neill", "O’Neill", "ONeill"], "oneill"),
        (["Ionuț", "Ionut"], "ionut"),
    ],
)
def test_variants_normalise_equal(variants: list[str], expected: str) -> None:
    assert {normalise_name(v) for v in variants} == {expected}


@pytest.mark.parametrize("value", ["Aeeon Müller", "Hüseyin Çelik", "Maëlle", "ﬁlmon", "uee", "Oeoe"])
def test_idempotent(value: str) -> None:
    once = normalise_name(value)
    assert normalise_name(once) == once


def test_distinct_names_stay_distinct() -> None:
    assert normalise_name("Haddad") != normalise_name("Hadad")
    assert normalise_name("Amina") != normalise_name("Amira")


def test_blank_is_empty() -> None:
    assert normalise_name("  \t ") == ""
