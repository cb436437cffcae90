from rnnlm.data.vocab import count_tokens
from rnnlm.workflow import run

run(snakemake, lambda s: count_tokens(s.input[0], s.output[0], s.params.split))  # noqa: F821
