"""The package's shape: imports flow one way (data → models → training / evaluation), and
no function or module grows past what a reader can hold."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "rnnlm"
CORE = {"errors", "config", "atomic", "progress", "metrics"}  # the top level every layer may use
# layer -> the layers it may import (besides itself and CORE)
ALLOWED = {
    "data": set(),
    "models": set(),
    "training": {"data", "models"},
    "evaluation": {"data", "models"},
}
MAX_FUNCTION_LINES, MAX_MODULE_LINES = 60, 300


def modules():
    return sorted(p for p in PACKAGE.rglob("*.py"))


def imported(path: Path) -> set[str]:
    """The rnnlm modules `path` imports, as dotted names below `rnnlm`."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("rnnlm"):
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.startswith("rnnlm"))
    return {n.split(".", 2)[1] for n in names if n.count(".") >= 1}


def layer_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_flow_one_way(path):
    layer = layer_of(path)
    if layer not in ALLOWED and layer not in CORE:
        return  # cli, workflow, the package root: the entry points, free to use everything
    allowed = ALLOWED.get(layer, set()) | CORE | {layer}
    known = set(ALLOWED) | CORE
    wrong = {name for name in imported(path) if name in known and name not in allowed}
    assert not wrong, f"{path.relative_to(PACKAGE)} ({layer}) imports {sorted(wrong)}"


def test_the_rules_catch_a_wrong_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from rnnlm.training.train import train_model\nimport rnnlm.models.lm\n")
    assert imported(bad) == {"training", "models"}


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_functions_and_modules_stay_short(path):
    text = path.read_text()
    assert len(text.splitlines()) <= MAX_MODULE_LINES, f"{path.name}: {len(text.splitlines())} lines"
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            assert length <= MAX_FUNCTION_LINES, f"{path.name}: {node.name} has {length} lines"
