"""The message catalogue: zh-CN and en texts for every stable code (design §3.21).

Rule results carry a stable code and one English message from the contract; the edges (API, CLI,
portal) show the user a text in their language chosen by code alone, from one catalogue that all
three share. The texts are data (``en.json``, ``zh_CN.json`` beside this module), so a translator
edits them without touching code. A text may name the values of a rejection's ``detail`` as
``{name}`` placeholders; a value not given stays visible as ``{name}`` rather than failing, so a
message never raises at an edge. A code this version does not know (a newer node's) gets the
``UNKNOWN_CODE`` text naming it.

Some detail values are English phrases rather than identifiers: the contract says *why* in
``problem`` ("name exactly one unit per request") and names kinds, states and steps in words. The
contract's output is on the ledger and must stay byte-identical, so those phrases are translated
here, at the edge, from a phrase table beside the texts (``phrases_zh_CN.json``). A table key is
the phrase itself or a template whose ``{name}`` parts stand for the variable text of an f-string
("cancellation {application} is already pending"); the captured parts are translated in turn, so
a phrase built from phrases ("{entry} was registered…" with "seizure S-1") reads in one language. A
phrase the table does not know stays in English: an untranslated word is better than no message.
"""

from __future__ import annotations

import json
import re
import string
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
_PHRASE_FILES: Final = {"zh-CN": "phrases_zh_CN.json"}
"""Locales whose texts need the contract's English phrases translated (en shows them as they are)."""

PHRASE_PARAMS: Final = frozenset({"problem", "needs", "kind", "expected", "state", "step"})
"""Detail entries the contract fills with English phrases; other entries are ids, numbers and codes."""

NESTED_PLACEHOLDERS: Final = frozenset({"cause", "entry", "expected", "first", "kind", "reason", "rest", "state",
                                        "use", "what"})
"""Placeholders of the phrase table whose captured text is itself a phrase or a code to translate (a
state, a cause, a unit use, a nested phrase). Every other placeholder holds what the user or the
register gave — an id, a number, a date, a field name, a code typed into a form — and is shown as it
is: "unknown type code OTHER" must not become the cancellation cause "OTHER" in Chinese."""
_PLACEHOLDER_PATTERNS: Final = {"field": r"\S+?", "first": r"[A-Z][A-Z_]*",
                                 "rest": r"[A-Z][A-Z_]*(?: or [A-Z][A-Z_]*)*"}
"""Narrower than "any text" where a placeholder has a shape: a field is a dotted path, and "{first} or {rest}"
is a list of state codes (``require_state``), so neither template reaches into a phrase it was not made for."""
_NESTING: Final = 6
"""How deep captured parts are translated again: the contract nests phrases at most twice, and a list of
states a step needs (``require_state``: "ACCEPTED or APPROVED or ON_HOLD") takes one level per state."""
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
    return MappingProxyType(_read(_FILES[normalise_locale(locale)]))


def _read(name: str) -> dict[str, str]:
    data = json.loads(resources.files(__package__).joinpath(name).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise InputError(f"{name}: expected a JSON object of text -> text")
    return data


def _pattern(template: str) -> re.Pattern[str]:
    """An anchored regex for ``template``: literal parts escaped, each ``{name}`` a lazy named group (of its shape)."""
    parts = []
    for literal, name, _, _ in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name:
            parts.append(f"(?P<{name}>{_PLACEHOLDER_PATTERNS.get(name, '.+?')})")
    return re.compile("".join(parts), re.DOTALL)


def _specificity(template: str) -> tuple[int, str]:
    """More literal text first: "{date} is also listed as a holiday" is tried before "{date} is not in {year}"."""
    literal = sum(len(text) for text, _, _, _ in string.Formatter().parse(template))
    return -literal, template


@cache
def phrases(locale: str) -> tuple[tuple[re.Pattern[str], str], ...]:
    """(template's regex, translation) for the contract's English phrases in ``locale``, most specific first.

    Empty for a locale that shows the phrases as the contract wrote them (en).
    """
    name = _PHRASE_FILES.get(normalise_locale(locale))
    if name is None:
        return ()
    table = _read(name)
    return tuple((_pattern(key), table[key]) for key in sorted(table, key=_specificity))


def localise_phrase(phrase: str, locale: str, depth: int = _NESTING) -> str:
    """``phrase`` (English, from the contract) in ``locale``, or unchanged when the table has no match."""
    for pattern, translation in phrases(locale):
        found = pattern.fullmatch(phrase)
        if found is not None:
            parts = found.groupdict()
            if depth > 1:
                parts = {key: localise_phrase(value, locale, depth - 1) if key in NESTED_PLACEHOLDERS else value
                         for key, value in parts.items()}
            return translation.format_map(_Values(parts))
    return phrase


def has_text(code: str, locale: str) -> bool:
    """Whether the catalogue has its own text for ``code`` in ``locale``."""
    return code in texts(locale)


def message(code: str, locale: str, **params: object) -> str:
    """The text for ``code`` in ``locale`` with ``params`` (a rejection's detail values) filled in.

    Phrase-valued params (``PHRASE_PARAMS``) are translated into ``locale`` first (``localise_phrase``).

    Raises:
        InputError: ``locale`` is not supported.

    """
    catalogue = texts(locale)
    template = catalogue.get(str(code))
    values = _Values({name: localise_phrase(str(value), locale) if name in PHRASE_PARAMS else str(value)
                      for name, value in params.items()})
    if template is None:
        template, values["code"] = catalogue[UNKNOWN_CODE], str(code)
    return template.format_map(values)
