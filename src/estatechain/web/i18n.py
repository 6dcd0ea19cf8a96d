"""The portal's languages: gettext catalogues (Babel) for page text, the shared catalogue for rule codes.

Page texts are gettext ``.po`` files under ``web/locale/<locale>/LC_MESSAGES/messages.po``, shipped as
source and compiled in memory at start-up (``babel.messages.mofile.write_mo``): no build step, no
compiled ``.mo`` in git that could drift from its ``.po``. Message ids are English; the ``en``
catalogue repeats them so that a missing entry is detectable in either language. Rule results are
not page text: their zh-CN and en texts come from ``estatechain.messages`` (design §3.21), looked up
by code. Amounts are integer fen and are shown in 元 or 万元 with integer arithmetic only.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Final

from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from estatechain.messages.catalogue import message

LOCALES: Final = ("zh-CN", "en")
"""Languages of the portal; the first is the default (Guangzhou)."""
BABEL_LOCALES: Final = {"zh-CN": "zh_CN", "en": "en"}
DOMAIN: Final = "messages"
CHINA: Final = dt.timezone(dt.timedelta(hours=8))
"""Registration happens in Beijing time; the ledger's times are UTC milliseconds."""


def N_(text: str) -> str:  # noqa: N802  (gettext's conventional name for a no-op marker)
    """Mark ``text`` for extraction; it is translated where it is shown (``_`` in a template)."""
    return text


@cache
def translations(locale: str) -> Translations:
    """The compiled catalogue of ``locale`` (read once from the package's ``.po``)."""
    name = BABEL_LOCALES[locale]
    source = resources.files(__package__).joinpath("locale", name, "LC_MESSAGES", f"{DOMAIN}.po")
    with source.open("rb") as handle:
        catalog = read_po(handle, locale=name, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def choose(value: str | None) -> str:
    """``value`` when it is a portal locale, else the default."""
    return value if value in LOCALES else LOCALES[0]


def money(fen: int, locale: str) -> str:
    """Fen as 元 (with 万元 for round ten-thousands in Chinese): ``120000000`` → ``120万元`` / ``CNY 1,200,000.00``."""
    yuan, cents = divmod(fen, 100)
    if locale == "zh-CN":
        if cents == 0 and yuan % 10_000 == 0 and yuan:
            return f"{yuan // 10_000:,}万元"
        return f"{yuan:,}.{cents:02d}元"
    return f"CNY {yuan:,}.{cents:02d}"


def when(ms: int | None, locale: str) -> str:
    """A ledger time (UTC ms) as Beijing local date and time in ``locale``."""
    if ms is None:
        return "—"
    moment = dt.datetime.fromtimestamp(ms / 1000, tz=CHINA)
    return str(format_datetime(moment, "yyyy-MM-dd HH:mm", tzinfo=CHINA, locale=BABEL_LOCALES[locale]))


def rule_texts(code: str, detail: Mapping[str, str] | None) -> dict[str, str]:
    """A rule result's text in every locale, by code from the shared catalogue (never the English fallback)."""
    values = dict(detail or {})
    return {locale: message(code, locale, **values) for locale in LOCALES}


ROLE_NAMES: Final = {
    "bank.operator": N_("Bank clerk"), "bank.approver": N_("Bank approver"), "person": N_("Owner"),
    "registry.intake": N_("Registry intake"), "registry.reviewer": N_("Registry reviewer"),
    "registry.recorder": N_("Registry recorder"), "registry.issuer": N_("Certificate issuer"),
    "registry.admin": N_("Registry administrator"), "court": N_("Court officer"), "auditor": N_("Regulator"),
    "developer": N_("Developer"), "identity.officer": N_("Identity officer"), "org.admin": N_("Org administrator"),
}
STATE_NAMES: Final = {
    "FILED": N_("Filed, awaiting confirmation"), "CONFIRMED": N_("Confirmed, awaiting intake"),
    "ACCEPTED": N_("Accepted, under review"), "APPROVED": N_("Approved, awaiting recording"),
    "ON_HOLD": N_("On hold"), "RECORDED": N_("Recorded, certificate pending"),
    "RECORDED_COMPLETE": N_("Recorded (complete)"), "CERTIFIED": N_("Certified"),
    "DECLINED": N_("Declined"), "WITHDRAWN": N_("Withdrawn"), "NOT_ACCEPTED": N_("Not accepted"),
    "REFUSED": N_("Refused"), "EXPIRED": N_("Expired unconfirmed"),
}
STEP_NAMES: Final = {
    "filed": N_("Filed"), "confirmed": N_("Confirmed"), "accepted": N_("Accepted"), "reviewed": N_("Reviewed"),
    "recorded": N_("Recorded"), "issued": N_("Certificate issued"),
    "issued_second": N_("The new mortgage's certificate issued"), "declined": N_("Declined"), "held": N_("Held"),
    "resumed": N_("Resumed"), "refused": N_("Refused"), "withdrawn": N_("Withdrawn"),
    "not_accepted": N_("Not accepted"),
}
BUSINESS_NAMES: Final = {"mortgage.first": N_("Mortgage first registration"),
                          "mortgage.cancel": N_("Mortgage cancellation"),
                          "mortgage_notice.first": N_("Pre-sale mortgage notice filing"),
                          "mortgage_notice.change": N_("Pre-sale mortgage notice change"),
                          "mortgage_notice.transfer": N_("Pre-sale mortgage notice transfer"),
                          "mortgage_notice.correct": N_("Pre-sale mortgage notice correction"),
                          "mortgage_notice.cancel": N_("Pre-sale mortgage notice cancellation"),
                          "mortgage.convert": N_("Pre-sale mortgage notice conversion to a mortgage"),
                          "purchase_notice.first": N_("Pre-sale purchase notice"),
                          "ownership.transfer": N_("Ownership transfer"),
                          "ownership.transfer_mortgage": N_("Ownership transfer with the buyer's new mortgage"),
                          "presale.terminate": N_("Pre-sale contract termination")}
CERTIFICATE_STATUS: Final = {
    "VALID": N_("Valid"), "CANCELLED": N_("Cancelled"), "SUPERSEDED": N_("Superseded"), "CORRECTED": N_("Corrected"),
    "CONVERTED": N_("Converted"), "REVOKED": N_("Revoked"),
}
MATERIAL_NAMES: Final = {"APPLICATION_FORM": N_("Application form"), "POWER_OF_ATTORNEY": N_("Power of attorney"),
                         "LOAN_CONTRACT": N_("Loan contract"),
                         "MAX_MORTGAGE_CONTRACT": N_("Maximum-amount mortgage contract"),
                         "NOTICE_AGREEMENT": N_("Agreement on the notice"), "PAYOFF_PROOF": N_("Payoff statement"),
                         "WAIVER_STATEMENT": N_("Waiver statement"), "REALISATION_PROOF": N_("Proof of realisation"),
                         "JUDGMENT": N_("Court judgment"), "OTHER_PROOF": N_("Other proof"),
                         "SUPPLEMENTARY_AGREEMENT": N_("Supplementary agreement"),
                         "ASSIGNMENT_AGREEMENT": N_("Assignment agreement"), "MERGER_PROOF": N_("Merger documents"),
                         "DEBTOR_NOTICE": N_("Proof that the debtor was notified"),
                         "ERROR_PROOF": N_("Proof of the error"),
                         "TERMINATION_AGREEMENT": N_("Termination agreement"), "CONSENT": N_("Written consent"),
                         "NOTARIAL_CERTIFICATE": N_("Notarial certificate of the power of attorney"),
                         "NAME_CHANGE_PROOF": N_("Proof of the change of name"),
                         "INTEREST_PROOF": N_("Proof of the applicant's interest"),
                         "SALE_CONTRACT": N_("Sale contract"), "TAX_PROOF": N_("Tax payment certificate")}
CAPACITY_NAMES: Final = {"mortgagor": N_("Mortgagor"), "mortgagee": N_("Mortgagee"), "debtor": N_("Debtor"),
                         "spouse": N_("Spouse"), "buyer": N_("Buyer"), "developer": N_("Developer"),
                         "consenter": N_("Consenting holder"), "transferor": N_("Transferor"),
                         "transferee": N_("Transferee")}
USE_NAMES: Final = {"residential": N_("Residential"), "commercial": N_("Commercial"), "office": N_("Office"),
                    "industrial": N_("Industrial"), "parking": N_("Parking"), "other": N_("Other")}
NAMES: Final = {"capacities": CAPACITY_NAMES, "uses": USE_NAMES, "roles": ROLE_NAMES, "states": STATE_NAMES,
                "steps": STEP_NAMES, "business": BUSINESS_NAMES, "certificate": CERTIFICATE_STATUS,
                "materials": MATERIAL_NAMES}
"""Code → message id tables the templates translate with the ``name`` filter."""
