"""Build a typed ``Rejected`` for a rule violation from its code's spec (``rejections.SPECS``)."""

from __future__ import annotations

from estatechain.contract.command import Rejected
from estatechain.contract.rejections import SPECS, Rejection, RejectionCode


class _Template(dict[str, str]):
    """Leaves unknown placeholders in place, so formatting a message can never raise."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def violate(code: RejectionCode, *, field: str | None = None, **values: str | int) -> Rejected:
    """The rejection for ``code``, its message filled with ``values``.

    The detail names the rule, the field (``field`` overrides the spec's), its legal basis and the values.
    """
    spec = SPECS[code]
    texts = {name: str(value) for name, value in values.items()}
    detail = {"field": field or spec.field, **texts}
    rule = code.value.split("_", 1)[0]
    if rule.startswith("V") and rule[1:].isdigit():
        detail["rule"] = rule
    if spec.basis:
        detail["basis"] = spec.basis
    message = spec.message.format_map(_Template(texts))
    return Rejected(rejection=Rejection(code=code, message=message, detail=detail))
