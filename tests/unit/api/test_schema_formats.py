"""Formats and limits at the API's edge.

The date format takes the one spelling the contract takes, so a bad date is a 422, not a recorded
rejection: pydantic checks ``pattern`` with a regex engine whose ``\\d`` matches any Unicode digit: a full-width
date passed the schema, was prepared, signed and committed, and only V11 refused it, as an invalid
transaction on the shared ledger.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError

from estatechain.api.app import upload_limits
from estatechain.api.routes import certificates, materials
from estatechain.api.schemas.workflow import IsoDate
from estatechain.contract.civil_date import parse_iso_date
from estatechain.node.settings import Settings
from estatechain.web import routes_desks, routes_public

DATES = TypeAdapter(IsoDate)


@pytest.mark.parametrize("text", ["２０２６-01-04", "2026-01-0\u0664", "2026-01-04\n", "2026-1-04"])
def test_a_date_the_contract_would_refuse_for_its_spelling_is_refused_by_the_schema(text: str) -> None:
    assert parse_iso_date(text) is None
    with pytest.raises(ValidationError):
        DATES.validate_python(text)


def test_an_iso_date_passes() -> None:
    assert DATES.validate_python("2026-01-04") == "2026-01-04"


def test_every_upload_limit_names_a_route_that_takes_a_post() -> None:
    """A path spelt wrong here would leave that upload at the small body limit, silently."""
    posts = {route.path for router in (materials.router, certificates.router, routes_desks.router, routes_public.router)
             for route in router.routes if isinstance(route, APIRoute) and "POST" in (route.methods or set())}
    limits = upload_limits(Settings(ledger_dir=Path("unused"), max_body_bytes=1024, max_upload_bytes=10 * 1024))
    assert set(limits) <= posts
    assert {"/v1/materials", "/portal/bank/new"} <= {path for path, limit in limits.items() if limit == 10 * 1024}
