"""``estatechain bench NAME [OPTIONS]``: the benchmarks of ``estatechain.bench`` from the installed CLI.

Each benchmark keeps its own options (``estatechain bench pipeline --help``); this command only
names them and hands the rest of the command line over, so a figure in ``docs/benchmarks.md`` can
be repeated with the command recorded beside it on any machine the package is installed on.
"""

from __future__ import annotations

import importlib
from typing import Final

import typer

BENCHES: Final = {
    "pipeline": "committed simple txs/s of the single-node pipeline vs the Ed25519 bound",
    "register": "synthetic register import per unit, then the registration mix vs simple txs and the bound",
    "synthetic": "generation time per unit of the synthetic Guangzhou register",
    "state-commitment": "one block's state-commitment update at two state sizes",
    "inquiry": "authenticated inquiries/s with their recording vs a signed no-op",
    "consents": "a bank's look-up of a unit's consents: the index vs a full pass",
    "desks": "each portal desk page's render time on a large register",
    "evidence": "selecting a unit's evidence: the mention index vs a pass over every envelope",
    "nats-stream": "acknowledged publishes/s into the R3 stream vs the disk's fsync bound",
    "cluster": "a 4-node cluster's committed txs/s and latency to finality vs one node on one core",
}
"""Each benchmark's CLI name and what it measures; the module is ``estatechain.bench.<name with _>``."""

def listing() -> str:
    """One line per benchmark: its name and what it measures."""
    width = max(map(len, BENCHES))
    return "\n".join(f"  {name.ljust(width)}  {what}" for name, what in BENCHES.items())


def usage() -> str:
    """What ``estatechain bench`` alone prints: how to run one, and the list."""
    return ("Usage: estatechain bench NAME [OPTIONS]\n\n"
            "Run a benchmark; each figure is reported next to a bound measured in the same run (design §5).\n"
            "Options after NAME are the benchmark's own: estatechain bench NAME --help.\n"
            "Example: estatechain bench pipeline --txs 2000 --repeat 1\n\n"
            f"Benchmarks:\n{listing()}")


def run(name: str, args: list[str]) -> None:
    """Run benchmark ``name`` with its own command-line ``args``; an unknown name is a usage error."""
    if name not in BENCHES:
        raise typer.BadParameter(f"no benchmark {name!r}; choose one of:\n{listing()}", param_hint="NAME")
    module = importlib.import_module(f"estatechain.bench.{name.replace('-', '_')}")
    module.main(args)
