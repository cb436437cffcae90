"""rnnlm: recurrent language models on reddit comments, as a Snakemake pipeline."""

__version__ = "0.1.0"

SENTENCE_START = "SENTENCE_START"
SENTENCE_END = "SENTENCE_END"
UNKNOWN_TOKEN = "UNKNOWN_TOKEN"
SPECIAL_TOKENS = (SENTENCE_START, SENTENCE_END, UNKNOWN_TOKEN)

from rnnlm.errors import RnnlmError  # noqa: E402  (re-exported: `from rnnlm import RnnlmError`)

__all__ = ["RnnlmError", "SENTENCE_START", "SENTENCE_END", "UNKNOWN_TOKEN", "SPECIAL_TOKENS"]
