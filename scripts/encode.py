from rnnlm.data.encode import encode_dump
from rnnlm.workflow import run

run(
    snakemake,  # noqa: F821 (injected by Snakemake)
    lambda s: encode_dump(s.input.tokens, s.input.vocab, s.output[0], valid=s.params.valid, test=s.params.test),
)
