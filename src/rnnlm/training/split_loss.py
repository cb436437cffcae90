"""The mean loss of a model over one split of the encoded data."""

from __future__ import annotations

from rnnlm.data.batching import SplitReader
from rnnlm.errors import RnnlmError
from rnnlm.models.lm import RecurrentLM


def split_loss(model: RecurrentLM, reader: SplitReader) -> tuple[float, int]:
    """(mean nats per predicted token, predicted tokens) of `model` over `reader`'s split, in
    fixed-shape batches when the model compiles per shape (JAX)."""
    total = count = 0.0
    for b in reader.all_batches(dtype=model.dtype, fixed_shapes=model.portable):
        t, c = model.compiled.loss(b.X, b.Y, b.M)
        total, count = total + float(t), count + float(c)
    if not count:
        raise RnnlmError(f"the {reader.split} split is empty: check the split fractions and the data")
    return total / count, int(count)
