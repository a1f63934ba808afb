"""A baseline commit checked out beside the current tree, and runs of either in a subprocess.

Speed targets are ratios against a fixed commit measured in the same run on the
same machine: `baseline_tree` makes (once) a detached git worktree of that commit
under the system temp directory, and `run_worker` runs `bench/sim_worker.py`
against a tree in a fresh interpreter, so neither run inherits the other's
imports, caches or heap.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

CURRENT = Path(__file__).resolve().parents[1]
BASELINE_COMMIT = "b885b47"
WORKER = Path(__file__).resolve().parent / "sim_worker.py"


def baseline_tree(commit: str = BASELINE_COMMIT) -> Path:
    """A worktree of `commit` (created on first use, reused after; never modified)."""
    full = subprocess.run(["git", "-C", str(CURRENT), "rev-parse", f"{commit}^{{commit}}"],
                          check=True, capture_output=True, text=True).stdout.strip()
    tree = Path(tempfile.gettempdir()) / f"keepcab-baseline-{full[:12]}"
    if not (tree / "simulator").is_dir():
        subprocess.run(["git", "-C", str(CURRENT), "worktree", "add", "--detach", str(tree), full],
                       check=True, capture_output=True)
    head = subprocess.run(["git", "-C", str(tree), "rev-parse", "HEAD"],
                          check=True, capture_output=True, text=True).stdout.strip()
    if head != full:
        raise RuntimeError(f"{tree} is at {head}, not {full}: remove it and rerun")
    return tree


def run_worker(tree: Path, scenario: str, policy: str, days: float | None = None) -> dict[str, Any]:
    """One simulation of `scenario` under `policy` with `tree`'s code; the worker's JSON."""
    command = [sys.executable, str(WORKER), str(tree), scenario, policy]
    if days is not None:
        command += ["--days", str(days)]
    out = subprocess.run(command, check=True, capture_output=True, text=True, cwd=tree).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    if not str(result["module"]).startswith(str(tree)):
        raise RuntimeError(f"worker imported {result['module']}, not the tree {tree}")
    return result
