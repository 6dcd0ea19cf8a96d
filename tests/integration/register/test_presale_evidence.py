"""A pre-sale flat's evidence package holds the buyer's signature of its contract (docs/evidence.md §8 check 4).

``presale.sign`` names only the contract's id (the ``presale.contract`` transaction's id), never the
flat: without it a court reading the flat's package would see a contract filed and never signed.
"""

from __future__ import annotations

from pathlib import Path

from presale_case import presale_register

from estatechain.evidence.attestations import NodeKey
from estatechain.evidence.export import export_package
from estatechain.evidence.verify import verify_package


def test_a_pre_sale_flats_package_holds_the_buyers_signature_of_its_contract(tmp_path: Path) -> None:
    pre = presale_register(tmp_path)
    contract = pre.contract()
    key = NodeKey.from_dev_layout(pre.reg.harness.consortium.directory, "gz-registry")
    package = export_package(pre.reg.node, {"kind": "unit", "unit_number": pre.predicted, "from_ms": 0,
                                            "to_ms": 2**53 - 1}, node_key=key, opener=None).data
    *_, filed, signed = [t for t in verify_package(package).txs if not t.context]
    assert (filed.command, filed.tx_id) == ("presale.contract", contract)
    assert (signed.command, signed.body["contract_id"]) == ("presale.sign", contract)
