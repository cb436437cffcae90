from rnnlm.data.synthetic import write_synthetic_dump
from rnnlm.workflow import run

run(
    snakemake,  # noqa: F821 (injected by Snakemake)
    lambda s: write_synthetic_dump(
        s.wildcards.name, s.output.dump, s.output.truth, s.output.entropy, **s.params.synthetic
    ),
)
