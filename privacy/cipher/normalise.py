"""Normalisation of search terms before they are blind-indexed.

The rule (documented in README.md, "Searching encrypted names"):

1. Unicode NFKC, then case-folded (``ß`` becomes ``ss``, ``ẞ`` too).
2. Diacritics removed (NFKD, combining marks dropped): ``ü`` → ``u``, ``ş`` → ``s``,
   ``é`` → ``e``; Turkish dotless ``ı`` → ``i``; ``ø`` → ``o``, ``æ`` → ``ae``, ``đ`` → ``d``.
3. German transliterations folded: ``ae`` → ``a``, ``oe`` → ``o``, ``ue`` → ``u``, so that
   "Müller", "MUELLER" and "muller" give the same index. This also merges a few unrelated
   spellings ("Michael"/"Michal"); search then returns both and the case manager sees the
   decrypted names: an acceptable false positive, never a false negative.
4. Hyphens, apostrophes and dots become spaces or vanish ("Al-Masri" = "Al Masri",
   "O'Neill" = "ONeill"); runs of whitespace collapse to one space; ends are trimmed.
"""

from __future__ import annotations

import re
import unicodedata

_EXTRA_FOLDS = str.maketrans({"ı": "i", "ø": "o", "đ": "d", "ł": "l", "þ": "th", "æ": "ae", "œ": "oe"})
_SEPARATORS = re.compile(r"[\-‐‑‒–—_/.,;]+")
_DROPPED = re.compile(r"['’‘`´ʼ\"]+")
_GERMAN_DIGRAPHS = re.compile(r"(ae|oe|ue)")
_WHITESPACE = re.compile(r"\s+")


def normalise_name(value: str) -> str:
    """Normalise a name for blind indexing; see the module docstring for the rule."""
    text = unicodedata.normalize("NFKC", value).casefold()
    text = text.translate(_EXTRA_FOLDS)
    text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    text = _DROPPED.sub("", text)
    text = _SEPARATORS.sub(" ", text)
    # Repeat until stable so that normalising twice gives the same result ("aee" -> "a").
    while True:
        folded = _GERMAN_DIGRAPHS.sub(lambda m: m.group(1)[0], text)
        if folded == text:
            break
        text = folded
    return _WHITESPACE.sub(" ", text).strip()


def name_parts(value: str) -> list[str]:
    """The distinct parts of a normalised name ("Çelik-Weiß" -> ["celik", "weiss"]), in order."""
    seen: dict[str, None] = {}
    for part in normalise_name(value).split(" "):
        if part:
            seen.setdefault(part, None)
    return list(seen)


def phonetic_key(part: str) -> str:
    """The Kölner Phonetik code of one normalised name part ("" when it has none).

    Coarser than the name: "Layla"/"Leila" (55), "Mansour"/"Mansur" (6687),
    "Mohammed"/"Muhammad" (662) share a code. Used only for "possible matches".
    """
    from cologne_phonetics import encode  # type: ignore[import-untyped]

    codes = encode(part)
    return "".join(code for _word, code in codes)
