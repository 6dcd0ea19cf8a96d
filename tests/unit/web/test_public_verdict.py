"""The public verification page's headline and step names for a resident (``routes_public``).

A certificate whose mortgage was cancelled (or which a change superseded) is genuine: every check
passes but the current status. Its headline must say so, not "the file did not verify", which reads
as a forgery. Every step the verifier may report has a name in words for the page.
"""

from __future__ import annotations

import re
from pathlib import Path

from estatechain import certificates
from estatechain.certificates.check_codes import CheckCode
from estatechain.certificates.verify import Check, Report
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


def test_every_step_the_verifier_names_has_a_name_on_the_page() -> None:
    source = "".join(path.read_text(encoding="utf-8") for path in Path(certificates.__file__).parent.glob("*.py"))
    named = set(re.findall(r'(?:Check\(name=|CheckFailed\()"([a-z ]+)"', source))
    named |= set(re.findall(r'^CHECK: Final = "([a-z ]+)"', source, flags=re.MULTILINE))
    assert "pdf signature" in named
    assert named <= CHECK_NAMES.keys(), named - CHECK_NAMES.keys()
