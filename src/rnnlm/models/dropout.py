"""Dropout masks, made in numpy and passed to the compiled train step as inputs.

Masks as inputs (not random streams inside the graph) keep every backend alike, make a
step's masks a function of (seed, step) — so a resumed run is bit-exact — and let the
gradient-check gate check a training graph with fixed masks.

Where units are dropped (inverted dropout: kept units are scaled by 1/(1-p)):
* ``rate``: the embeddings entering the first layer, the outputs passed between stacked
  layers, and the top layer's outputs before the output layer;
* ``recurrent``: the state entering each step's recurrent product (Gal & Ghahramani);
* ``variational``: the ``rate`` masks are the same at every time step of a sentence (the
  recurrent mask always is).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytensor.tensor as pt


@dataclass(frozen=True)
class Dropout:
    rate: float = 0.0
    recurrent: float = 0.0
    variational: bool = True

    @property
    def active(self) -> bool:
        return self.rate > 0 or self.recurrent > 0

    def structure(self) -> Dropout:
        """Which masks a graph takes: the rates only shape the masks' values (`sample`)."""
        return Dropout(0.5 if self.rate > 0 else 0.0, 0.5 if self.recurrent > 0 else 0.0, self.variational)


NO_DROPOUT = Dropout()


@dataclass
class Masks:
    """The symbolic masks of one graph (None where that dropout is off)."""

    embedding: object = None  # (T or 1, B, E)
    between: list | None = None  # per layer boundary: (T or 1, B, H)
    output: object = None  # (T or 1, B, H)
    recurrent: list | None = None  # per layer: (B, H)

    def inputs(self) -> list:
        out = [self.embedding, *(self.between or []), self.output, *(self.recurrent or [])]
        return [m for m in out if m is not None]


def symbolic(dropout: Dropout, layers: int, dtype: str, shape=None, widths=(None, None)) -> Masks:
    """The masks as graph inputs; with the batch's `shape` (T, B) and the (embedding, hidden)
    `widths`, of static shapes (for JAX)."""
    if not dropout.active:
        return Masks()
    steps, batch = shape or (None, None)
    time = 1 if dropout.variational else steps

    def seq(name, width=widths[1]):
        return pt.tensor(name, dtype=dtype, shape=(time, batch, width))

    masks = Masks()
    if dropout.rate > 0:
        masks.embedding = seq("mask_embedding", widths[0])
        masks.between = [seq(f"mask_between{layer}") for layer in range(1, layers)]
        masks.output = seq("mask_output")
    if dropout.recurrent > 0:
        masks.recurrent = [
            pt.tensor(f"mask_recurrent{layer}", dtype=dtype, shape=(batch, widths[1])) for layer in range(layers)
        ]
    return masks


def sample(
    dropout: Dropout,
    layers: int,
    embedding: int,
    hidden: int,
    steps: int,
    batch: int,
    rng: np.random.Generator,
    dtype: str,
) -> list[np.ndarray]:
    """Masks for one batch, in the order of `Masks.inputs()`."""
    if not dropout.active:
        return []
    time = 1 if dropout.variational else steps

    def draw(shape, p):
        return ((rng.random(shape) >= p) / (1.0 - p)).astype(dtype)

    out = []
    if dropout.rate > 0:
        out.append(draw((time, batch, embedding), dropout.rate))
        out += [draw((time, batch, hidden), dropout.rate) for _ in range(1, layers)]
        out.append(draw((time, batch, hidden), dropout.rate))
    if dropout.recurrent > 0:
        out += [draw((batch, hidden), dropout.recurrent) for _ in range(layers)]
    return out
