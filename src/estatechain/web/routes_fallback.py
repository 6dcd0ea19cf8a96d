"""The portal's answer to an address it does not have, or a method a page does not take: a page, not JSON.

Mounted last under ``/portal`` (after every other portal router), so it only sees requests no portal
route matched in full. A path that some route serves with other methods is a 405 with ``Allow``;
anything else is the 404 problem page. Both are in the visitor's language, like every portal page;
the API's own paths (``/v1/...``) keep the API's JSON errors.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Final

from fastapi import APIRouter, Request, Response
from starlette.routing import BaseRoute

from estatechain.web.i18n import N_
from estatechain.web.pages import redirect, render
from estatechain.web.portal import PortalRoute, Visitor

router = APIRouter(prefix="/portal", route_class=PortalRoute, include_in_schema=False)

METHODS: Final = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def leaf_routes(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    """Every endpoint route under ``routes``, through included routers (FastAPI keeps them nested)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        yield from leaf_routes(included.routes) if included is not None else (route,)


def allowed_methods(request: Request) -> set[str]:
    """Methods of the app's other routes for the request's path (empty when none serves that path).

    Matches each endpoint's own full path (the portal's routers carry their ``/portal`` prefix and
    are included without another), so it does not depend on how the framework nests routers.
    """
    allowed: set[str] = set()
    for route in leaf_routes(request.app.router.routes):
        regex, methods = getattr(route, "path_regex", None), getattr(route, "methods", None)
        if regex is not None and methods and getattr(route, "name", "") != "fallback" and regex.match(request.url.path):
            allowed |= set(methods)
    return allowed


@router.api_route("/{rest:path}", methods=METHODS)
async def fallback(request: Request, rest: str, session: Visitor) -> Response:
    """404 (or 405 with ``Allow``) as the portal's problem page; ``/portal/`` goes to ``/portal``."""
    if not rest and request.method in {"GET", "HEAD"}:
        return redirect("", session)
    allowed = allowed_methods(request)
    if allowed:
        response = render("problem.html", session, status=405,
                          problem=N_("This page does not take that kind of request."))
        response.headers["Allow"] = ", ".join(sorted(allowed))
        return response
    return render("problem.html", session, status=404, problem=N_("Not found."))
