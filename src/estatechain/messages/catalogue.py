"""The message catalogue: zh-CN and en texts for every stable code (design §3.21).

Rule results carry a stable code and one English message from the contract; the edges (API, CLI,
portal) show the user a text in their language chosen by code alone, from one catalogue that all
three share. The texts are data (``en.json``, ``zh_CN.json`` beside this module), so a translator
edits them without touching code. A text may name the values of a rejection's ``detail`` as
``{name}`` placeholders; a value not given stays visible as ``{name}`` rather than failing, so a
message never raises at an edge. A code this version does not know (a newer node's) gets the
``UNKNOWN_CODE`` text naming it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Final

from estatechain.errors import InputError

LOCALES: Final = ("zh-CN", "en")
"""Supported locales, the first being the default for users in Guangzhou."""

UNKNOWN_CODE: Final = "UNKNOWN_CODE"

_FILES: Final = {"zh-CN": "zh_CN.json", "en": "en.json"}
_ALIASES: Final = {"zh": "zh-CN", "zh-cn": "zh-CN", "zh_cn": "zh-CN", "zh-hans": "zh-CN", "zh-hans-cn": "zh-CN",
                   "en": "en", "en-us": "en", "en-gb": "en", "en_us": "en", "en_gb": "en"}


class _Values(dict[str, str]):
    """Leaves placeholders without a value in place."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def normalise_locale(locale: str) -> str:
    """``zh``, ``zh_CN``, ``zh-Hans``… → ``zh-CN``; ``en-US``… → ``en``.

    Raises:
        InputError: the locale is not one the catalogue has texts for.

    """
    found = _ALIASES.get(locale.strip().lower())
    if found is None:
        raise InputError(f"locale: {locale!r} is not supported; use one of {', '.join(LOCALES)}")
    return found


@cache
def texts(locale: str) -> Mapping[str, str]:
    """Every code's text template in ``locale`` (read once from the package data)."""
    name = _FILES[normalise_locale(locale)]
    data = json.loads(resources.files(__package__).joinpath(name).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise InputError(f"{name}: expected a JSON object of code -> text")
    return MappingProxyType(data)


def has_text(code: str, locale: str) -> bool:
    """Whether the catalogue has its own text for ``code`` in ``locale``."""
    return code in texts(locale)


def message(code: str, locale: str, **params: object) -> str:
    """The text for ``code`` in ``locale`` with ``params`` (a rejection's detail values) filled in.

    Raises:
        InputError: ``locale`` is not supported.

    """
    catalogue = texts(locale)
    template = catalogue.get(str(code))
    values = _Values({name: str(value) for name, value in params.items()})
    if template is None:
        template, values["code"] = catalogue[UNKNOWN_CODE], str(code)
    return template.format_map(values)
