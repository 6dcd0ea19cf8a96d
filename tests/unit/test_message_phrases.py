"""The zh-CN catalogue translates every English phrase the contract can put into a rejection's detail.

How the phrases are found: a static scan of the contract.

The contract fills phrase-valued detail entries (``problem``, ``needs``, ``kind``, ``expected``,
``state``, ``step``) with English text that the zh-CN catalogue translates at the edge. A rule may
pass a literal, an f-string, a local variable or the result of a helper that returns such text, so
the scan follows each value back: through local assignments (tuple unpacking included), conditional
expressions, ``str()``, calls of contract functions (their returned expressions, by tuple position),
helpers that forward a ``problem`` parameter (``_v20(problem)``), and the names inside f-strings
(``f"{later} was registered…"``). The result over-approximates what can reach a detail, which is what
a completeness test wants: a phrase the scan misses cannot be checked, one too many costs a line of
translation.
"""

from __future__ import annotations

import ast
import json
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pytest

from estatechain.contract.checks.elicence import check_v27_elicence
from estatechain.contract.checks.terms import check_v10_amount_kind, check_v11_term
from estatechain.contract.checks.unit import check_v1_unit_number
from estatechain.contract.command import Rejected
from estatechain.contract.context import BlockContext
from estatechain.contract.records import Application, DateRange, Method, UnitKind, UnitUse
from estatechain.contract.records.application import AppState
from estatechain.contract.rules.business import require_state
from estatechain.contract.rules.inquiry import _lookup
from estatechain.contract.rules.mortgage_cancel import PROOF_OF_CAUSE
from estatechain.messages import message, texts
from estatechain.messages.catalogue import PHRASE_PARAMS, localise_phrase
from estatechain.testing.contract_view import DictView

CONTRACT: Final = Path(__file__).resolve().parents[2] / "src" / "estatechain" / "contract"

SAMPLE: Final = "Q7"
"""Stands for a formatted value of an f-string: an identifier-like text no template matches by itself."""

_WORD: Final = re.compile(r"[a-z]{2,}")


@dataclass(frozen=True, slots=True)
class Phrase:
    """A phrase the contract can emit: a literal (``text``) or an f-string sampled with ``SAMPLE``."""

    text: str
    where: str


@dataclass(frozen=True, slots=True)
class _Scope:
    module: str
    function: ast.FunctionDef | None


class _Scan:
    def __init__(self, trees: dict[str, ast.Module]) -> None:
        self.trees = trees
        self.functions: dict[str, list[tuple[str, ast.FunctionDef]]] = {}
        for module, tree in self.trees.items():
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef):
                    self.functions.setdefault(node.name, []).append((module, node))
        self.found: dict[str, Phrase] = {}
        self._seen: set[tuple[int, int | None]] = set()

    def _defs(self, name: str, module: str) -> list[tuple[str, ast.FunctionDef]]:
        defs = self.functions.get(name, [])
        local = [d for d in defs if d[0] == module]
        return local or defs

    def _add(self, text: str, where: str) -> None:
        if _WORD.search(text):
            self.found.setdefault(text, Phrase(text=text, where=where))

    def resolve(self, expr: ast.expr, scope: _Scope, index: int | None = None) -> None:  # noqa: C901, PLR0912
        key = (id(expr), index)
        if key in self._seen:
            return
        self._seen.add(key)
        where = f"{scope.module}:{expr.lineno}"
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str) and index is None:
            self._add(expr.value, where)
        elif isinstance(expr, ast.JoinedStr) and index is None:
            parts = []
            for value in expr.values:
                if isinstance(value, ast.Constant):
                    parts.append(str(value.value))
                else:
                    parts.append(SAMPLE)
                    assert isinstance(value, ast.FormattedValue)
                    self.resolve(value.value, scope)
            self._add("".join(parts), where)
        elif isinstance(expr, ast.IfExp):
            self.resolve(expr.body, scope, index)
            self.resolve(expr.orelse, scope, index)
        elif isinstance(expr, ast.BoolOp):
            for value in expr.values:
                self.resolve(value, scope, index)
        elif isinstance(expr, ast.Tuple):
            if index is not None and index < len(expr.elts):
                self.resolve(expr.elts[index], scope)
        elif isinstance(expr, ast.Name):
            self._name(expr.id, scope, index)
        elif isinstance(expr, ast.Call):
            self._call(expr, scope, index)

    def _name(self, name: str, scope: _Scope, index: int | None) -> None:
        if scope.function is None:
            return
        for node in ast.walk(scope.function):
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    self._assigned(target, node.value, name, scope, index)
            elif isinstance(node, (ast.For, ast.comprehension)):
                self._loop(node.target, node.iter, name, scope)

    def _assigned(self, target: ast.expr, value: ast.expr, name: str, scope: _Scope, index: int | None) -> None:
        """``name = value`` or ``a, name = value`` (then the element at that position)."""
        if isinstance(target, ast.Name) and target.id == name:
            self.resolve(value, scope, index)
        elif isinstance(target, ast.Tuple):
            for position, element in enumerate(target.elts):
                if isinstance(element, ast.Name) and element.id == name:
                    self.resolve(value, scope, position)

    def _loop(self, target: ast.expr, source: ast.expr, name: str, scope: _Scope) -> None:
        """``for failed, problem in checks``: the named element of each item of a literal sequence."""
        if isinstance(target, ast.Name) and target.id == name:
            position = None
        elif isinstance(target, ast.Tuple) and name in [e.id for e in target.elts if isinstance(e, ast.Name)]:
            position = [e.id if isinstance(e, ast.Name) else "" for e in target.elts].index(name)
        else:
            return
        for item in self._items(source, scope):
            self.resolve(item, scope, position)

    def _items(self, source: ast.expr, scope: _Scope) -> Iterator[ast.expr]:
        if isinstance(source, (ast.Tuple, ast.List)):
            yield from source.elts
        elif isinstance(source, ast.Name) and scope.function is not None:
            for node in ast.walk(scope.function):
                if isinstance(node, ast.Assign) and any(
                        isinstance(t, ast.Name) and t.id == source.id for t in node.targets):
                    yield from self._items(node.value, scope)

    def _call(self, call: ast.Call, scope: _Scope, index: int | None) -> None:
        name = _callee(call)
        if name == "str" and call.args:
            self.resolve(call.args[0], scope, index)
            return
        for module, definition in self._defs(name, scope.module):
            inner = _Scope(module, definition)
            for node in ast.walk(definition):
                if isinstance(node, ast.Return) and node.value is not None:
                    self.resolve(node.value, inner, index)

    def run(self) -> dict[str, Phrase]:
        for module, tree in self.trees.items():
            for function in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
                scope = _Scope(module, function)
                for call in (n for n in ast.walk(function) if isinstance(n, ast.Call)):
                    for keyword in call.keywords:
                        if keyword.arg in PHRASE_PARAMS:
                            self.resolve(keyword.value, scope)
                    self._forwarded(call, scope)
        return self.found

    def _forwarded(self, call: ast.Call, scope: _Scope) -> None:
        """Positional arguments bound to a phrase parameter that a contract helper passes on.

        ``_v20(problem)`` and ``batch.fresh(key, "ownership right", id)`` forward their argument into
        ``violate(..., problem=problem)`` / ``kind=kind``, ``_load(..., "review", ...)`` through
        ``require_state(..., step, ...)``; ``malformed(field, problem)`` does not (its text stays in
        the English message, outside the detail), so it is not followed.
        """
        for module, definition in self._defs(_callee(call), scope.module):
            for position, param in enumerate(_params(definition)[:len(call.args)]):
                if param in PHRASE_PARAMS and self._forwards(module, definition, param, set()):
                    self.resolve(call.args[position], scope)

    def _forwards(self, module: str, definition: ast.FunctionDef, param: str, seen: set[int]) -> bool:
        """Whether ``definition`` passes its parameter ``param`` on as ``param=param`` (directly or via a helper)."""
        if id(definition) in seen:
            return False
        seen.add(id(definition))
        for call in (n for n in ast.walk(definition) if isinstance(n, ast.Call)):
            if any(k.arg == param and isinstance(k.value, ast.Name) and k.value.id == param for k in call.keywords):
                return True
            for position, arg in enumerate(call.args):
                if isinstance(arg, ast.Name) and arg.id == param and any(
                        _params(inner)[position:position + 1] == [param] and self._forwards(where, inner, param, seen)
                        for where, inner in self._defs(_callee(call), module)):
                    return True
        return False


def _callee(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _params(definition: ast.FunctionDef) -> list[str]:
    params = [arg.arg for arg in definition.args.args]
    return params[1:] if params[:1] == ["self"] else params


def scan(sources: dict[str, str]) -> dict[str, Phrase]:
    """Every phrase (f-strings sampled) ``sources`` (module name → code) can put into a phrase-valued detail entry."""
    return _Scan({module: ast.parse(code) for module, code in sources.items()}).run()


def contract_phrases() -> dict[str, Phrase]:
    """The scan over the contract package."""
    return scan({path.relative_to(CONTRACT.parent).as_posix(): path.read_text(encoding="utf-8")
                 for path in sorted(CONTRACT.rglob("*.py"))})


ENUM_PHRASES: Final = frozenset({*(kind.value for kind in UnitKind), *(use.value for use in UnitUse),
                                 *(state.value for state in AppState), *PROOF_OF_CAUSE})
"""Phrases the contract passes as ``enum.value`` or a code (``kind=unit.kind.value``, ``state=state.value``,
``cause {reason} needs…``), which the scan cannot read as literals; listed from the enums and the table of
cancellation causes so that a new member needs a translation too."""

def _joined_phrases() -> frozenset[str]:
    """``require_state``'s ``expected`` (the states a step needs, joined at run time), its codes sampled."""
    rejected = require_state(_application(AppState.RECORDED), _context(), "refuse", {AppState.FILED, AppState.ACCEPTED})
    assert isinstance(rejected, Rejected)
    return frozenset({re.sub(r"[A-Z][A-Z_]*", SAMPLE, str(dict(rejected.rejection.detail)["expected"]))})


def _application(state: AppState) -> Application:
    return Application(application_id="a" * 64, business_type="mortgage.first", unit_number="4" * 28, applicants=(),
                       materials=(), details={}, state=state, filer="f", filer_org="icbc-gz", filed_ms=0,
                       confirm_deadline_ms=10**15, held_ms_total=0, steps={})


def _context() -> BlockContext:
    return BlockContext(chain_id="c", height=1, block_time_ms=1, tx_id="t", tx_seq=1, signer="s",
                        signer_org="gz-registry", signer_org_type="registry", signer_role="registry.reviewer")


JOINED_PHRASES: Final = _joined_phrases()


def _sampled(expr: ast.expr) -> str | None:
    """A literal's text, or an f-string's with each formatted value as ``SAMPLE``; None for anything else."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    if isinstance(expr, ast.JoinedStr):
        return "".join(str(v.value) if isinstance(v, ast.Constant) else SAMPLE for v in expr.values)
    return None


def _field_error_phrases() -> frozenset[str]:
    """What a V20 correction reports when the corrected entry does not decode: ``f"{error.field} {error.problem}"``.

    The problems are those the record decoders raise (``FieldError(field, problem)`` in ``contract/records``),
    and the ``what=`` texts that ``fields.pattern`` puts into "must be {what}".
    """
    found: set[str] = set()
    for path in sorted(CONTRACT.rglob("*.py")):
        in_records = path.parent.name == "records"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            if in_records and _callee(node) == "FieldError" and len(node.args) == 2:
                problem = _sampled(node.args[1])
                if problem is not None:
                    found.add(f"{SAMPLE} {problem}")
            for keyword in node.keywords:
                what = _sampled(keyword.value) if keyword.arg == "what" else None
                if what is not None:
                    found.add(what)
    return frozenset(found)


FIELD_ERROR_PHRASES: Final = _field_error_phrases()

PHRASES: Final = contract_phrases()
TABLE: Final = json.loads((CONTRACT.parent / "messages" / "phrases_zh_CN.json").read_text(encoding="utf-8"))
CJK: Final = re.compile(r"[\u4e00-\u9fff]")


def placeholders(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def translated(phrase: str) -> bool:
    return localise_phrase(phrase, "zh-CN") != phrase


def test_the_scan_follows_every_way_a_phrase_reaches_a_detail() -> None:
    expected = {
        "name exactly one unit per request",  # a literal problem=
        "cancellation Q7 is already pending",  # an f-string
        "it has Q7 characters instead of 28",  # returned by a helper, through a local variable
        "year Q7 is after the current year Q7",  # an element of a literal tuple a loop picks from
        "the holders (or an interested party with proof) must apply",  # a helper forwarding problem= (_v20)
        "ownership right",  # a method forwarding kind= (batch.fresh)
        "superseded or converted",  # a phrase inside an f-string's value
        "consent Q7 was revoked",  # the first element of a returned tuple (_consents)
        "the requester holds no current right on the unit",  # a tuple element two calls deep (_decide)
    }
    assert expected <= set(PHRASES)
    assert len(PHRASES) >= 130


def test_every_phrase_the_contract_can_emit_has_a_zh_cn_translation() -> None:
    missing = sorted(f"{PHRASES[text].where}: {text!r}" for text in PHRASES if not translated(text))
    missing += sorted(text for text in ENUM_PHRASES | FIELD_ERROR_PHRASES if not translated(text))
    assert missing == [], "add these to messages/phrases_zh_CN.json (f-string parts as {name}):\n" + "\n".join(missing)


def test_a_new_literal_problem_without_a_translation_fails_the_completeness_test() -> None:
    source = """
def check(x):
    reason = f"unit {x} is haunted"
    if x:
        return violate(RejectionCode.V2_UNIT_NOT_HOUSING, unit_number=x, problem="a brand-new reason")
    return violate(RejectionCode.V2_UNIT_NOT_HOUSING, unit_number=x, problem=reason)
"""
    found = scan({"contract/new_rule.py": source})
    assert set(found) == {"a brand-new reason", "unit Q7 is haunted"}
    assert not any(translated(text) for text in found)


def test_every_table_entry_is_a_phrase_the_contract_emits() -> None:
    emitted = set(PHRASES) | ENUM_PHRASES | JOINED_PHRASES | FIELD_ERROR_PHRASES
    stale = [key for key in TABLE if key.format_map(dict.fromkeys(placeholders(key), SAMPLE)) not in emitted]
    assert stale == []


@pytest.mark.parametrize("key", sorted(TABLE))
def test_each_translation_keeps_the_placeholders_of_its_english_phrase(key: str) -> None:
    names = placeholders(key)
    assert len(names) == len(set(names)), key
    assert sorted(placeholders(TABLE[key])) == sorted(names)
    assert CJK.search(TABLE[key]), key


def _rendered(rejected: Rejected | None) -> tuple[str, str, dict[str, str]]:
    assert isinstance(rejected, Rejected)
    code, detail = rejected.rejection.code, dict(rejected.rejection.detail)
    return message(code, "zh-CN", **detail), message(code, "en", **detail), detail


@pytest.mark.parametrize(("rejected", "chinese"), [
    (_lookup(DictView(), {}), "每次查询只能指定一个不动产单元"),
    (_lookup(DictView(), {"name": "张三"}), "不得以权利人姓名或身份证件号码查询"),
    (check_v1_unit_number("440106"), "长度为 6 位，应为 28 位"),
    (check_v11_term(DateRange(start="2025-05-01", end="2025-01-01"), "debt_term", filed_day=None), "截止日早于起始日"),
    (check_v27_elicence("1.2.3"), "不符合 1.2.156.3005.2.<type>"),
])
def test_a_real_rejection_reads_in_chinese_and_unchanged_in_english(rejected: Rejected | None, chinese: str) -> None:
    zh, en, detail = _rendered(rejected)
    problem = localise_phrase(detail["problem"], "zh-CN")
    assert chinese in problem
    assert problem in zh
    assert detail["problem"] not in zh
    letters = problem.replace("<type>.<issuer>.<serial>.<version>.<check>", "")  # the identifier's format
    assert re.search(r"[A-Za-z]{2,}", letters) is None, zh
    assert en == texts("en")[detail_code(rejected)].format_map(detail)


def detail_code(rejected: Rejected | None) -> str:
    assert isinstance(rejected, Rejected)
    return rejected.rejection.code


def test_the_amount_rule_translates_both_its_phrases() -> None:
    zh, en, detail = _rendered(check_v10_amount_kind({"secured_principal_fen": 100, "max_claim_fen": 200},
                                                     Method.ORDINARY))
    assert zh == ("抵押方式 1 需要 填写被担保主债权数额（secured_principal_fen）且不填写最高债权额（max_claim_fen）；"
                  "两项金额均已填写。")
    assert en == "A method-1 mortgage needs secured_principal_fen and no max_claim_fen; both amounts are present."
    assert detail["problem"] == "both amounts are present"  # the ledger keeps the contract's English


def test_a_phrase_built_from_phrases_is_translated_part_by_part() -> None:
    assert localise_phrase("it is no longer current (superseded or converted)", "zh-CN") == (
        "已不是现势登记（已被替代或已转为本登记）")
    assert localise_phrase("seizure S-1 was registered on the unit after the entry", "zh-CN") == (
        "该登记之后，该不动产单元上又登记了查封 S-1")


def test_an_unknown_phrase_stays_english_and_en_is_never_translated() -> None:
    assert message("V20_CORRECTION_INVALID", "zh-CN", problem="something new") == "更正登记无效：something new。"
    assert localise_phrase("name exactly one unit per request", "en") == "name exactly one unit per request"
    assert message("RECORD_NOT_FOUND", "en", kind="consent", id="C-1") == (
        "No consent with id C-1 exists; check the reference.")


@pytest.mark.parametrize("needed", [
    {AppState.ACCEPTED},
    {AppState.FILED, AppState.CONFIRMED},
    {AppState.ACCEPTED, AppState.APPROVED, AppState.ON_HOLD},
    {AppState.FILED, AppState.CONFIRMED, AppState.ACCEPTED, AppState.APPROVED, AppState.ON_HOLD},
])
def test_a_step_in_the_wrong_state_names_both_states_in_chinese(needed: set[AppState]) -> None:
    rejected = require_state(_application(AppState.RECORDED), _context(), "refuse", needed)
    zh, en, detail = _rendered(rejected)
    assert detail["state"] == "RECORDED"  # the ledger keeps the codes
    assert zh.startswith(f"申请 {'a' * 64} 当前状态为 已登簿，“不予登记”要求状态为 ")
    assert re.search(r"[A-Za-z]{2,}", zh.replace("a" * 64, "")) is None, zh
    assert zh.count(" 或 ") == len(needed) - 1
    assert en == f"Application {'a' * 64} is RECORDED; 'refuse' needs it to be {detail['expected']}."


def test_every_application_state_and_cancellation_cause_reads_in_chinese() -> None:
    for code in [*(state.value for state in AppState), *PROOF_OF_CAUSE]:
        assert CJK.search(localise_phrase(code, "zh-CN")), code
    assert localise_phrase("cause REALISED needs a joint application with the mortgagors", "zh-CN") == (
        "注销原因 抵押权已实现 须与抵押人共同申请")


def test_a_correction_whose_entry_does_not_decode_reports_the_field_error_in_chinese() -> None:
    assert {"Q7 must be an integer from Q7 to Q7", "Q7 must be Q7", "64 lower-case hex characters"} <= (
        FIELD_ERROR_PHRASES)
    problem = "holders[0].party_id must be 64 lower-case hex characters"
    assert message("V20_CORRECTION_INVALID", "zh-CN", problem=problem) == (
        "更正登记无效：holders[0].party_id 须为 64 位小写十六进制字符。")
    assert message("V20_CORRECTION_INVALID", "zh-CN", problem="amount must be an integer from 1 to 99") == (
        "更正登记无效：amount 须为 1 至 99 之间的整数。")


@pytest.mark.parametrize("phrase", [
    "unknown type code OTHER",  # a material code the filer typed: not the cancellation cause OTHER
    "fixture type FILED is not a building",  # a register code, not the application state FILED
])
def test_a_code_the_user_typed_is_shown_as_typed_inside_a_translated_phrase(phrase: str) -> None:
    code = phrase.rsplit(maxsplit=1)[-1] if phrase.startswith("unknown") else "FILED"
    zh = localise_phrase(phrase, "zh-CN")
    assert CJK.search(zh), zh
    assert code in zh, zh


@pytest.mark.parametrize("phrase", ["the deadline must be after filing or acceptance", "x or y must be given"])
def test_a_phrase_the_table_does_not_know_stays_whole_english(phrase: str) -> None:
    assert localise_phrase(phrase, "zh-CN") == phrase
