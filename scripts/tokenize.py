from rnnlm.tokenize import tokenize_dump
from rnnlm.workflow import run

run(
    snakemake,  # noqa: F821 (injected by Snakemake)
    lambda s: tokenize_dump(
        s.input.dump, s.output.tokens, s.output.stats, dump=s.wildcards.dump, threads=s.threads, **dict(s.params.items())
    ),
)
