import os
import subprocess
import sys
from pathlib import Path

import pytest

import rnnlm.models.backend  # noqa: F401  (sets PyTensor's flags before any test imports it)

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


@pytest.fixture(scope="session")
def punkt_tab_dir(tmp_path_factory):
    from helpers import write_punkt_tab

    return write_punkt_tab(tmp_path_factory.mktemp("nltk_data"))


def run_snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run the real workflow in `workdir` (its own .snakemake, results/, resources/)."""
    cmd = [SNAKEMAKE, "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir), "--cores", "2", *args]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNAKEMAKE")}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=workdir)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def planned_jobs(workdir: Path, *args: str) -> dict[str, int]:
    """Rule -> job count that a dry run would execute (empty when there is nothing to do)."""
    proc = run_snakemake(workdir, "-n", "--quiet", "rules", *args)
    out = proc.stdout + proc.stderr
    if "Job stats:" not in out:
        assert "Nothing to be done" in out, out
        return {}
    jobs: dict[str, int] = {}
    for line in out.split("Job stats:")[-1].splitlines()[3:]:
        parts = line.split()
        if len(parts) != 2 or parts[0] == "total":
            break
        jobs[parts[0]] = int(parts[1])
    return jobs
