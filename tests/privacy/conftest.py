"""Fixtures shared by the data subject rights tests (defined with the Art. 15 tests)."""

from tests.privacy.test_rights import dpo, household, language  # noqa: F401
