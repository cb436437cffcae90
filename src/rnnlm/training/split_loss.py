"""The mean loss of a model over one split of the encoded data."""

from __future__ import annotations

from rnnlm.data.batching import SplitReader
from rnnlm.errors import RnnlmError
from rnnlm.models.lm import RecurrentLM


def split_loss(model: RecurrentLM, reader: SplitReader, max_tokens: int) -> tuple[float, int]:
    """(mean nats per predicted token, predicted tokens) of `model` over `reader`'s split, in
    batches of at most `max_tokens` (fixed shapes when the model compiles per shape: JAX)."""
    total = count = 0.0
    for pieces in reader.all_batches(max_tokens, dtype=model.dtype, fixed_shapes=model.portable):
        t, c = model.compiled.loss_over(pieces)
        total, count = total + t, count + c
    if not count:
        raise RnnlmError(f"the {reader.split} split is empty: check the split fractions and the data")
    return total / count, int(count)
