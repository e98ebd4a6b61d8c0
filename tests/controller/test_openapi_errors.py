"""Every API route documents the errors it can answer, with the shared error body."""

from __future__ import annotations

from typing import Any

import pytest

from controller.app import create_app
from controller.config import Settings

PUBLIC = ("/api/system", "/api/enroll", "/media/", "/manifests/")
"""Routes that need no login (the enrolment token is its own credential; a manifest is signed)."""


@pytest.fixture(scope="module")
def openapi(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("openapi") / "controller")
    schema: dict[str, Any] = create_app(settings).openapi()
    return schema


def operations(openapi: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, methods in openapi["paths"].items()
        for method, op in methods.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def test_every_signed_in_route_documents_its_errors(openapi: dict[str, Any]) -> None:
    missing = []
    for path, method, op in operations(openapi):
        if path.startswith(PUBLIC):
            continue
        codes = set(op["responses"])
        needed = {"401", "403", "404", "429"}
        if op.get("parameters") or op.get("requestBody"):
            needed.add("422")
        if op.get("requestBody"):
            needed.add("400")
        if not needed <= codes:
            missing.append(f"{method.upper()} {path}: {sorted(needed - codes)}")
    assert not missing, "\n".join(missing)
    assert len(operations(openapi)) > 50


def test_every_documented_error_has_the_shared_body(openapi: dict[str, Any]) -> None:
    schemas = openapi["components"]["schemas"]
    assert set(schemas["ErrorPublic"]["required"]) == {"detail"}
    for path, method, op in operations(openapi):
        for code, response in op["responses"].items():
            if not code.startswith("4"):
                continue
            ref = response["content"]["application/json"]["schema"]["$ref"]
            assert ref.rsplit("/", 1)[1] in {"ErrorPublic", "InvalidPublic"}, (method, path, code)


def test_integer_ids_are_bounded(openapi: dict[str, Any]) -> None:
    for path, method, op in operations(openapi):
        for parameter in op.get("parameters", []):
            schema = parameter["schema"]
            options = schema.get("anyOf", [schema])
            for option in options:
                if option.get("type") == "integer" and parameter["name"].endswith("_id"):
                    assert option.get("minimum") == 1 and option.get("maximum") == 2**31 - 1, (method, path)
