"""The web portal (issue 9): server-rendered desks for owners, bank clerks, registry staff and the public.

``router`` is what ``api/app.py`` mounts under ``/portal``. The portal sits beside the API at the
edge (import-linter: below ``estatechain.api``, which mounts it, and above ``estatechain.node``): it
reads the node's ledger directly and submits the transactions it signs for its users to the node's
own pipeline, never through HTTP to itself.
"""

from fastapi import APIRouter

from estatechain.web import (
    routes_account,
    routes_cases,
    routes_court,
    routes_desks,
    routes_fallback,
    routes_inquiry,
    routes_live,
    routes_owner,
    routes_presale,
    routes_public,
    routes_register,
    routes_regulator,
    routes_session,
    routes_sign,
)

router = APIRouter()
for _module in (routes_session, routes_account, routes_sign, routes_desks, routes_cases, routes_public, routes_court,
                routes_regulator, routes_register, routes_owner, routes_live, routes_inquiry, routes_presale):
    router.include_router(_module.router)
router.include_router(routes_fallback.router)  # last: only what no portal route matched in full

__all__ = ["router"]
