"""Glue for the thin Snakemake scripts: logging into the rule's log, errors that say what.

A user's mistake or bad input (`RnnlmError`) ends the job with one line in the log. Anything
else is a bug: its traceback goes to the rule's log too (never an empty log), then the job
fails.
"""

from __future__ import annotations

import sys

from rnnlm.errors import RnnlmError
from rnnlm.progress import configure_logging, log


def run(snakemake, step) -> None:
    """Run `step(snakemake)` with logging into the rule's log."""
    configure_logging(snakemake.log[0] if snakemake.log else None)
    try:
        step(snakemake)
    except RnnlmError as e:
        log.error(f"error: {e}")
        sys.exit(1)
    except KeyboardInterrupt:
        log.error("error: interrupted")
        sys.exit(1)
    except Exception:
        log.exception(f"internal error in rule {snakemake.rule} (a bug; the traceback follows)")
        sys.exit(1)
