"""Glue for the thin Snakemake scripts: logging into the rule's log, one-line errors."""

from __future__ import annotations

import sys

from rnnlm import RnnlmError
from rnnlm.progress import configure_logging, log


def run(snakemake, step) -> None:
    """Run `step(snakemake)`; a user's mistake (`RnnlmError`) ends the job with one line."""
    configure_logging(snakemake.log[0] if snakemake.log else None)
    try:
        step(snakemake)
    except RnnlmError as e:
        log.error(f"error: {e}")
        sys.exit(1)
