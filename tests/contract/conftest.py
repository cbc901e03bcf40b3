"""A typed client generated from the live schema with openapi-python-client, once per session.

The generator runs as a subprocess (as an integrator would run it) into a temporary
directory; its warnings are kept for the test that requires there are none.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

PACKAGE = "generated_casemgmt_client"
#: Non-JSON bodies the generator cannot type: mapped to bytes, documented in README (API > Content types).
GENERATOR_CONFIG = f"""\
project_name_override: {PACKAGE}
package_name_override: {PACKAGE}
post_hooks: []
content_type_overrides:
  image/svg+xml: application/octet-stream
"""


class Generated:
    """The generated package and what the generator said while making it."""

    def __init__(self, package: ModuleType, output: str, returncode: int) -> None:
        self.package = package
        self.output = output
        self.returncode = returncode

    def module(self, name: str) -> Any:
        return importlib.import_module(f"{PACKAGE}.{name}")


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory, django_db_blocker: Any) -> Iterator[Generated]:
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    workdir = tmp_path_factory.mktemp("client")
    (workdir / "schema.json").write_text(json.dumps(response.json()))
    (workdir / "config.yaml").write_text(GENERATOR_CONFIG)
    generator = Path(sys.executable).with_name("openapi-python-client")
    result = subprocess.run(
        [str(generator), "generate", "--path", "schema.json", "--config", "config.yaml", "--meta", "none"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    sys.path.insert(0, str(workdir))
    try:
        package = importlib.import_module(PACKAGE)
        yield Generated(package, result.stdout + result.stderr, result.returncode)
    finally:
        sys.path.remove(str(workdir))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


@pytest.fixture
def keep_test_connection() -> Iterator[None]:
    """As Django's test client does: WSGI requests must not close the test's database connection."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def wsgi_transport(keep_test_connection: None) -> Any:
    """The application in-process: no server thread, the test's transaction sees every write."""
    import httpx
    from django.core.wsgi import get_wsgi_application

    return httpx.WSGITransport(app=get_wsgi_application())
