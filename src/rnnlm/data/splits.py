"""Which split a comment belongs to: a stable function of its id alone.

So all of a comment's sentences land in the same split, and adding a dump never moves an
existing comment to another split.
"""

from __future__ import annotations

import hashlib

import numpy as np

SPLITS = ("train", "valid", "test")


def split_of(comment_id: str, valid: float, test: float) -> int:
    """0 train, 1 valid, 2 test: a stable function of the comment id."""
    u = int.from_bytes(hashlib.blake2b(comment_id.encode(), digest_size=8, person=b"rnnlm-split").digest(), "big")
    u /= 2.0**64
    return 2 if u < test else 1 if u < test + valid else 0


def split_codes(comment_ids, valid: float, test: float) -> np.ndarray:
    """`split_of` for many ids, as int8 codes (0 train, 1 valid, 2 test)."""
    return np.fromiter((split_of(c, valid, test) for c in comment_ids), dtype=np.int8, count=len(comment_ids))
