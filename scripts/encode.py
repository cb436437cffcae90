from rnnlm.data.encode import encode_dump
from rnnlm.workflow import run

run(snakemake, lambda s: encode_dump(s.input.tokens, s.input.vocab, s.output[0], **dict(s.params.items())))  # noqa: F821
