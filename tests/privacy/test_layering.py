"""The cipher is the bottom layer of ``privacy``: no models, no DRF, no upper layers, no circles."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CIPHER = Path(__file__).resolve().parents[2] / "privacy" / "cipher"

# Within privacy.cipher each module may import only the ones listed (a strict order: no circle).
ORDER = {
    "keys": set(),
    "text_form": set(),
    "crypto": {"keys", "text_form"},
    "normalise": set(),
    "blind_index": {"keys", "normalise"},
    "fields": {"keys", "crypto", "normalise", "blind_index"},
}

ALLOWED_THIRD_PARTY = ("cryptography", "cologne_phonetics")
# Django, but only the ORM and settings machinery: never an app's models, DRF or contrib apps.
ALLOWED_DJANGO = ("django.conf", "django.core.exceptions", "django.core.validators", "django.db")


def _imports(path: Path) -> list[str]:
    """Every module imported anywhere in ``path`` (also inside functions: lazy imports count)."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                raise AssertionError(f"{path.name}: use absolute imports in privacy.cipher")
            module = node.module or ""
            if module in ("privacy", "privacy.cipher"):
                names.extend(
                    f"privacy.cipher.{alias.name}" if module == "privacy.cipher" else f"privacy.{alias.name}"
                    for alias in node.names
                )
            else:
                names.append(module)
    return names


def _is_stdlib(name: str) -> bool:
    import sys

    return name.split(".")[0] in sys.stdlib_module_names or name == "__future__"


def test_every_cipher_module_has_a_place_in_the_order() -> None:
    modules = {p.stem for p in CIPHER.glob("*.py")} - {"__init__"}
    assert modules == set(ORDER)


@pytest.mark.parametrize("module", sorted(ORDER))
def test_cipher_module_imports_only_lower_layers(module: str) -> None:
    for name in _imports(CIPHER / f"{module}.py"):
        if _is_stdlib(name):
            continue
        if name.startswith("privacy.cipher."):
            assert name.removeprefix("privacy.cipher.") in ORDER[module], f"{module} imports {name}: circle"
            continue
        assert not name.startswith(("privacy", "casemgmt", "api", "bench")), f"{module} imports {name}"
        assert "rest_framework" not in name, f"{module} imports DRF ({name})"
        assert not name.endswith(".models") or name == "django.db.models", f"{module} imports models ({name})"
        if name.startswith("django"):
            assert name.startswith(ALLOWED_DJANGO), f"{module} imports {name}"
            continue
        assert name.startswith(ALLOWED_THIRD_PARTY), f"{module} imports {name}"


def test_cipher_package_init_imports_nothing() -> None:
    assert _imports(CIPHER / "__init__.py") == []


def test_old_flat_modules_are_gone() -> None:
    # The cipher lives in one place; the old privacy.fields / privacy.keys paths would bring the circle back.
    for module in ORDER:
        assert not (CIPHER.parent / f"{module}.py").exists()


PRIVACY = CIPHER.parent
#: ``privacy`` sits below the API: it takes plain values (users, ids, names of filters), never
#: a DRF request; the API adapts a request to them (``api.audit.log_access``).
FORBIDDEN_IN_PRIVACY = ("rest_framework", "api", "drf_spectacular")


@pytest.mark.parametrize(
    "path", sorted(p for p in PRIVACY.rglob("*.py") if "migrations" not in p.parts), ids=lambda p: p.name
)
def test_privacy_imports_no_drf_and_no_api(path: Path) -> None:
    bad = [name for name in _imports_any(path) if name.split(".")[0] in FORBIDDEN_IN_PRIVACY]
    assert bad == [], f"{path.relative_to(PRIVACY.parent)} imports {bad}"


def _imports_any(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names.append(node.module or "")
    return names


def test_privacy_access_log_takes_plain_values() -> None:
    """``record_access`` has no request parameter: a command or job records a read the same way."""
    import inspect

    from privacy.audit import record_access

    assert "request" not in inspect.signature(record_access).parameters
