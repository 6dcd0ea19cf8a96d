"""``estatechain bench``: the benchmarks ship with the package and run from the installed CLI (design §4, §5).

An operator measures the hardware a node will run on with the installed software alone, and the
commands recorded in docs/benchmarks.md keep working from a source checkout. Tiny sizes only: these
tests check that each benchmark runs and reports its figure next to its bound, never how fast.
"""

from __future__ import annotations

import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import estatechain.bench
from estatechain.cli.bench import BENCHES

CLI = [sys.executable, "-m", "estatechain"]
ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, check=False)


def test_bench_alone_lists_every_benchmark_the_package_ships() -> None:
    shipped = {m.name.replace("_", "-") for m in pkgutil.iter_modules(estatechain.bench.__path__)}
    result = run("bench")
    assert result.returncode == 0, result.stderr
    listed = set(re.findall(r"^  ([a-z-]+) ", result.stdout, flags=re.MULTILINE))
    assert listed == shipped == set(BENCHES)
    assert "Example: estatechain bench pipeline" in result.stdout
    assert run("bench", "--help").stdout == result.stdout


@pytest.mark.parametrize("name", sorted(BENCHES))
def test_each_benchmark_takes_its_own_options_from_the_cli(name: str) -> None:
    result = run("bench", name, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: estatechain bench {name} ")


def test_an_unknown_benchmark_is_named_with_the_choices_and_no_traceback() -> None:
    result = run("bench", "pipelin")
    assert result.returncode == 2
    assert "no benchmark 'pipelin'" in result.stderr
    assert "pipeline" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_pipeline_figure_is_reported_as_a_ratio_to_the_bound_of_the_same_run() -> None:
    result = run("bench", "pipeline", "--txs", "400", "--repeat", "1")
    assert result.returncode == 0, result.stderr
    bound = re.search(r"^bound: Ed25519 verify/s, one core, PyNaCl \(libsodium\)\s+(\d+)$", result.stdout,
                      re.MULTILINE)
    assert bound is not None, result.stdout
    assert int(bound.group(1)) > 0
    rates = re.findall(r"committed tx/s \(median of 1 x 400\)\s+(\d+)\s+ratio to bound ([\d.]+)%", result.stdout)
    assert len(rates) == 2, result.stdout  # certificate in every envelope, and signers known
    for rate, ratio in rates:
        assert float(ratio) == pytest.approx(100 * int(rate) / int(bound.group(1)), abs=0.06)


def test_the_registration_mix_runs_over_a_synthetic_register_with_no_invalid_transaction() -> None:
    """Issue 5's benchmark at a toy size: the mix commits every case and reports its ratio to simple txs."""
    result = run("bench", "register", "--units", "300", "--cases", "10", "--simple-txs", "200", timeout=300)
    assert result.returncode == 0, result.stderr
    mix = re.search(r"registration mix over 300 units:\s+(\d+) committed tx/s\s+\((\d+) txs: 70 in 10 cases "
                    r"\+ (\d+) inquiries; 0 invalid", result.stdout)
    assert mix is not None, result.stdout
    assert int(mix.group(2)) == 70 + int(mix.group(3))
    assert re.search(r"^registration mix / simple-tx rate: [\d.]+%", result.stdout, re.MULTILINE), result.stdout


def test_the_commands_recorded_in_the_benchmarks_document_still_run_from_a_checkout() -> None:
    recorded = set(re.findall(r"bench/bench_([a-z_]+)\.py", (ROOT / "docs" / "benchmarks.md").read_text()))
    assert recorded, "docs/benchmarks.md records no bench/ command"
    for name in sorted(recorded):
        script = ROOT / "bench" / f"bench_{name}.py"
        result = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True,
                                timeout=60, check=False)
        assert result.returncode == 0, (script, result.stderr)
        assert f"estatechain bench {name.replace('_', '-')}" in result.stdout
