"""The output layer a model asks for: ``full`` (softmax.py) or ``class`` (classes.py)."""

from __future__ import annotations

from rnnlm.errors import RnnlmError
from rnnlm.models.classes import ClassSoftmax
from rnnlm.models.softmax import FullSoftmax

OUTPUTS = ("full", "class")


def output_layer(
    kind: str, vocab_size: int, hidden: int, bias: bool, matrix: str, classes=None, portable: bool = False
):
    """The output layer of a model: ``full`` or ``class`` (which needs the class boundaries);
    `portable`: in standard Ops only (portable.py), for the JAX backend."""
    if kind == "full":
        return FullSoftmax(vocab_size, hidden, bias, matrix, portable)
    if kind != "class":
        raise RnnlmError(f"unknown output {kind!r} (expected one of {', '.join(OUTPUTS)})")
    if portable:
        raise RnnlmError("output: class runs on the Numba and C backends only, not mode: JAX (use output: full)")
    if classes is None:
        raise RnnlmError("output: class needs the vocabulary's counts (or the model's saved classes)")
    return ClassSoftmax(vocab_size, hidden, bias, matrix, classes)
