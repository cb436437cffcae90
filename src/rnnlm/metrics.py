"""Per-token cross-entropy and perplexity."""

import math


def perplexity(nats_per_token: float) -> float:
    """exp(nats), infinite rather than an OverflowError for a model that is hopeless."""
    return math.exp(nats_per_token) if nats_per_token < 700 else math.inf
