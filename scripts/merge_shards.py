from rnnlm.data.shards import merge_shards
from rnnlm.workflow import run

run(
    snakemake,  # noqa: F821 (injected by Snakemake)
    lambda s: merge_shards(
        list(s.input.tokens), list(s.input.stats), s.output.tokens, s.output.stats, s.params.max_bad_fraction
    ),
)
