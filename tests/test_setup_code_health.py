"""The package's shape: imports flow one way, and no function grows past what a reader can hold.

Layers, bottom up (docs/architecture.md draws them):
* core (`CORE`): the top-level modules; they import no layer, except that `config` reads the
  cell table (`models.cells`, plain data) for the schema's `cell` choices;
* `data` and `models`, side by side: neither imports the other;
* `training` and `evaluation`, side by side above both: neither imports the other;
* the entry points (`cli`, `workflow`) use everything.

Modules have no line cap: a module is split where a concept wants its own home, not squeezed.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "rnnlm"
CORE = {"errors", "config", "atomic", "progress", "metrics"}
# layer -> the layers it may import (besides itself and CORE)
ALLOWED = {
    "data": set(),
    "models": set(),
    "training": {"data", "models"},
    "evaluation": {"data", "models"},
}
# (module, what it may import besides its layer's rule)
EXCEPTIONS = {("config", "rnnlm.models.cells")}
MAX_FUNCTION_LINES = 60


def modules():
    return sorted(p for p in PACKAGE.rglob("*.py"))


def imported(path: Path) -> set[str]:
    """The rnnlm modules `path` imports, as dotted names (``rnnlm.models.lm``)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("rnnlm"):
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.startswith("rnnlm"))
    return names


def layer_of_name(dotted: str) -> str:
    """The layer of ``rnnlm.X.…``: X (a subpackage or a core module)."""
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 else ""


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
    wrong = {
        name
        for name in imported(path)
        if layer_of_name(name) in known
        and layer_of_name(name) not in allowed
        and (path.stem if layer in CORE else layer, name) not in EXCEPTIONS
    }
    assert not wrong, f"{path.relative_to(PACKAGE)} ({layer}) imports {sorted(wrong)}"


def test_the_rules_catch_a_wrong_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from rnnlm.training.train import train_model\nimport rnnlm.models.lm\n")
    assert {layer_of_name(n) for n in imported(bad)} == {"training", "models"}


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_functions_stay_short(path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            assert length <= MAX_FUNCTION_LINES, f"{path.name}: {node.name} has {length} lines"
