"""envs/rnnlm.yaml (the rules' conda environment for `--sdm conda`) stays in step with the
dependencies pyproject.toml installs into .venv. Conda is not installed here, so this compares
the two lists: the same packages with the same version ranges."""

import re
import tomllib

import yaml
from helpers import REPO
from packaging.requirements import Requirement

# The workflow engine runs in the Snakemake process that starts the jobs, never inside a rule's
# conda environment; a rule's script imports Snakemake from that process's search path.
ENGINE = {"snakemake", "snakemake-executor-plugin-slurm"}
# what a conda environment needs for itself
CONDA_ONLY = {"python", "pip"}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pyproject_dependencies() -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    requirements = [Requirement(r) for r in project["dependencies"]]
    return {canonical(r.name): ",".join(sorted(str(s) for s in r.specifier)) for r in requirements}


def conda_dependencies() -> dict[str, str]:
    specs = []
    for entry in yaml.safe_load((REPO / "envs/rnnlm.yaml").read_text())["dependencies"]:
        specs += entry["pip"] if isinstance(entry, dict) else [entry]
    out = {}
    for spec in specs:
        name, version = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*(.*)", spec).groups()
        assert canonical(name) not in out, f"envs/rnnlm.yaml names {name} twice"
        out[canonical(name)] = ",".join(sorted(v.strip() for v in version.split(","))) if version else ""
    return out


def test_conda_environment_names_pyproject_dependencies_with_their_ranges():
    pyproject, conda = pyproject_dependencies(), conda_dependencies()
    assert ENGINE <= set(pyproject)
    runtime = {k: v for k, v in pyproject.items() if k not in ENGINE}
    assert len(runtime) >= 9
    assert {k: v for k, v in conda.items() if k not in CONDA_ONLY} == runtime
    assert conda["python"] == "=3.12"
    assert 'requires-python = ">=3.12' in (REPO / "pyproject.toml").read_text()


def test_numba_slice_assignment_errors_are_plain_and_still_raised():
    """`_numba.plain_slice_assignment_errors` (5–12 s off a cold train-graph compile) must
    still find Numba's hook after an upgrade, and a bad assignment must still fail."""
    import numba
    import numpy as np
    import pytest

    from rnnlm.models.ops import _numba

    assert _numba.PLAIN_SLICE_ERRORS

    @numba.njit
    def assign(a, b):
        a[:2] = b

    with pytest.raises(ValueError, match="cannot assign slice from input of different size"):
        assign(np.zeros(5), np.ones(3))
