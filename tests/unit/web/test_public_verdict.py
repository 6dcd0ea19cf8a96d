"""The public verification page's headline and step names for a resident (``routes_public``).

A certificate whose mortgage was cancelled (or which a change superseded) is genuine: every check
passes but the current status. Its headline must say so, not "the file did not verify", which reads
as a forgery. Every step the verifier may report has a name in words for the page.
"""

from __future__ import annotations

import ast
from pathlib import Path

from estatechain import certificates
from estatechain.certificates.check_codes import CheckCode
from estatechain.certificates.verify import Check, Report
from estatechain.web.i18n import translations
from estatechain.web.routes_public import AUTHENTIC, CHECK_NAMES, NOT_IN_FORCE, NOT_VERIFIED, verdict

PASSED = tuple(Check(name=name, ok=True, code=CheckCode.FORMAT_OK)
               for name in ("format", "chain", "issuer", "record signature", "record hash", "issue transaction",
                            "ledger inclusion", "attestation"))


def report(status: str | None, last: Check) -> Report:
    return Report(kind="json", checks=(*PASSED, last), record={"number": "x"}, status=status)


def test_an_authentic_certificate_no_longer_in_force_is_headed_so() -> None:
    for status in ("CANCELLED", "SUPERSEDED", "CORRECTED", "CONVERTED", "REVOKED"):
        assert verdict(report(status, Check(name="status", ok=False, code=CheckCode.CANCELLED))) == NOT_IN_FORCE
    assert verdict(report("VALID", Check(name="status", ok=True, code=CheckCode.VALID_NOW))) == AUTHENTIC


def test_a_file_that_fails_another_check_did_not_verify() -> None:
    changed = Check(name="record signature", ok=False, code=CheckCode.RECORD_SIGNATURE_BAD)
    tampered = Report(kind="json", checks=(*PASSED[:3], changed), record=None, status=None)
    assert verdict(tampered) == NOT_VERIFIED
    unasked = Report(kind="json", checks=(*PASSED, Check(name="status", ok=False, code=CheckCode.STATUS_UNAVAILABLE)),
                     record=None, status=None)
    assert verdict(unasked) == NOT_VERIFIED


def _constants(tree: ast.Module) -> dict[str, str]:
    """The module's top-level names bound to a string (``CHECK: Final = "pdf signature"``)."""
    found = {}
    for node in tree.body:
        target = node.target if isinstance(node, ast.AnnAssign) else (
            node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None)
        value = node.value if isinstance(node, ast.AnnAssign | ast.Assign) else None
        if isinstance(target, ast.Name) and isinstance(value, ast.Constant) and isinstance(value.value, str):
            found[target.id] = value.value
    return found


def _callee(call: ast.Call) -> str | None:
    return call.func.id if isinstance(call.func, ast.Name) else None


def _step_argument(call: ast.Call, sinks: dict[str, tuple[int | None, str]]) -> ast.expr | None:
    """The argument of ``call`` that names a step, when the callee is a step sink."""
    sink = sinks.get(_callee(call) or "")
    if sink is None:
        return None
    position, keyword = sink
    named = next((k.value for k in call.keywords if k.arg == keyword), None)
    if named is not None:
        return named
    return call.args[position] if position is not None and position < len(call.args) else None


def _sinks(functions: list[ast.FunctionDef]) -> dict[str, tuple[int | None, str]]:
    """Callee → (position, keyword) of its argument that names a step: ``Check``, ``CheckFailed`` and forwarders.

    A forwarder passes one of its own parameters on as a step name (``_b64(value, check, field)``);
    forwarders of forwarders are found too (to a fixed point).
    """
    sinks: dict[str, tuple[int | None, str]] = {"Check": (None, "name"), "CheckFailed": (0, "check")}
    while True:
        before = dict(sinks)
        for function in functions:
            params = [a.arg for a in function.args.args]
            for call in (c for c in ast.walk(function) if isinstance(c, ast.Call)):
                argument = _step_argument(call, sinks)
                if isinstance(argument, ast.Name) and argument.id in params and function.name != "__init__":
                    sinks[function.name] = (params.index(argument.id), argument.id)
        if sinks == before:
            return sinks


def verifier_step_names() -> set[str]:
    """Every step name the verifier can put in a report, read from the package's code.

    A step is named where a ``Check(name=...)`` is made or a ``CheckFailed(check, ...)`` raised, or
    through a helper that passes its own parameter on to one of those (``_sinks``). Each name must
    be a string literal or a module constant of the package (``PAGE_CHECK``); an argument of any
    other kind fails the test, so a new way of naming a step cannot slip past it.
    ``Check(name=failed.check)`` only passes on a ``CheckFailed``'s step.
    """
    trees = [ast.parse(path.read_text(encoding="utf-8"))
             for path in sorted(Path(certificates.__file__).parent.glob("*.py"))]
    constants: dict[str, str] = {}
    for tree in trees:
        for name, value in _constants(tree).items():
            assert constants.setdefault(name, value) == value, f"{name} means two things"
    functions = [f for tree in trees for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)]
    sinks = _sinks(functions)
    names: set[str] = set()
    unread: list[str] = []
    for function in functions:
        params = {a.arg for a in function.args.args}
        for call in (c for c in ast.walk(function) if isinstance(c, ast.Call)):
            argument = _step_argument(call, sinks)
            if argument is None or (isinstance(argument, ast.Name) and argument.id in params):
                continue  # not a step, or a forwarder's parameter: its callers' arguments are read
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                names.add(argument.value)
            elif isinstance(argument, ast.Name) and argument.id in constants:
                names.add(constants[argument.id])
            elif not (isinstance(argument, ast.Attribute) and argument.attr == "check"):
                unread.append(ast.unparse(call))
    assert unread == [], "step names this test cannot read"
    return names


def test_every_step_the_verifier_can_report_has_a_name_on_the_page_in_both_languages() -> None:
    """A Chinese page showing "✓ pdf page: …" reads as unfinished to a resident (review, 2026-11-27)."""
    named = verifier_step_names()
    assert {"pdf signature", "pdf page", "issuer revocation", "record signature", "status"} <= named
    assert sorted(named - CHECK_NAMES.keys()) == []
    zh, en = translations("zh-CN"), translations("en")
    for name in named:
        text = CHECK_NAMES[name]
        assert en.gettext(text) == text, name
        assert zh.gettext(text) != text, f"{name}: {text!r} has no Chinese text"
