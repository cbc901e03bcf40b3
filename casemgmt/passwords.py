"""Password rules beyond Django's validators."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError


class RepetitivePasswordValidator:
    """Rejects passwords made of one short block repeated (``aaaaaaaaaaaa``, ``abababababab``,
    ``123123123123``) or of very few distinct characters: long but trivially guessable."""

    def __init__(self, min_distinct: int = 5, max_block: int = 4) -> None:
        self.min_distinct = min_distinct
        self.max_block = max_block

    def validate(self, password: str, user: Any = None) -> None:
        """Raise ValidationError for a repeated block or too few distinct characters."""
        folded = password.casefold()
        if _repeated_block(folded, self.max_block) or len(set(folded)) < self.min_distinct:
            raise ValidationError(
                "This password repeats the same few characters; choose a less predictable one.",
                code="password_repetitive",
            )

    def get_help_text(self) -> str:
        return (
            f"Your password cannot be a short sequence repeated, and needs at least "
            f"{self.min_distinct} different characters."
        )


def _repeated_block(value: str, max_block: int) -> bool:
    """Whether ``value`` is (up to a partial tail) one block of at most ``max_block`` characters repeated."""
    for size in range(1, min(max_block, len(value) // 2) + 1):
        block = value[:size]
        if (block * (len(value) // size + 1))[: len(value)] == value:
            return True
    return False
