from rnnlm.evaluation.evaluate import baselines
from rnnlm.workflow import run

run(
    snakemake,  # noqa: F821 (injected by Snakemake)
    lambda s: baselines(
        list(s.input.encoded), s.input.vocab, list(s.input.truth), s.params.order, s.output.json, s.output.ngram
    ),
)
