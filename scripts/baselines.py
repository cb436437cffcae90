from rnnlm.evaluation.evaluate import baselines
from rnnlm.workflow import run

run(snakemake, lambda s: baselines(list(s.input.encoded), s.input.vocab, list(s.input.truth), s.params.order, s.output[0]))  # noqa: F821
