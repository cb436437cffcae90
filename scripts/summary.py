from rnnlm.evaluation.report import summarize
from rnnlm.workflow import run

run(snakemake, lambda s: summarize(list(s.input), s.output[0]))  # noqa: F821
