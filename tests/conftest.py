"""Shared fixtures: real Snakemake workflows in their own directories, the tiny configs in
tests/configs/, the `rnnlm` command, and a tokenizer call with the schema's defaults."""

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from helpers import BIN, REPO, Workflow, load_config

import rnnlm.models.backend  # noqa: F401  (sets PyTensor's flags before any test imports it)
from rnnlm.config import defaults


def pytest_collection_modifyitems(items):
    """A test that runs the real workflow is slow, whether or not it says so."""
    for item in items:
        if {"workflow", "new_workflow"} & set(item.fixturenames):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def workflow(tmp_path) -> Workflow:
    return Workflow(tmp_path)


@pytest.fixture(scope="session")
def new_workflow(tmp_path_factory):
    """For module fixtures: a workflow in a fresh directory named `name`."""
    return lambda name: Workflow(tmp_path_factory.mktemp(name))


@pytest.fixture(scope="session")
def test_config():
    """A tiny config from tests/configs/ (a fresh copy each call, free to change)."""

    return load_config


@pytest.fixture(scope="session")
def bundled_config() -> dict:
    """The default run's config.yaml, as a user would edit it."""
    return yaml.safe_load((REPO / "config.yaml").read_text())


@pytest.fixture(scope="session")
def rnnlm_cli():
    """Runs the installed `rnnlm` command."""

    def run(*args: str, cwd, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN / "rnnlm"), *args], capture_output=True, text=True, cwd=cwd, input=stdin)

    return run


@pytest.fixture(scope="session")
def tokenize():
    """tokenize_dump with the config schema's defaults; returns (stats, output Parquet path).
    The stats file must hold what the call returned."""
    from rnnlm.data.tokenize import tokenize_dump

    def run(path: Path, out_dir: Path, name: str = "out", **settings):
        out, stats = out_dir / f"{name}.parquet", out_dir / f"{name}.stats.json"
        schema_defaults = {
            "fmt": defaults("dumps", "*")["format"],
            **{k: defaults()[k] for k in ("normalize", "max_bad_fraction", "max_comment_chars", "max_comment_seconds")},
        }
        result = tokenize_dump(str(path), str(out), str(stats), dump="d", **(schema_defaults | settings))
        assert json.loads(stats.read_text()) == result
        return result, out

    return run


@pytest.fixture(scope="session")
def punkt_tab_dir(tmp_path_factory):
    from helpers import write_punkt_tab

    return write_punkt_tab(tmp_path_factory.mktemp("nltk_data"))
