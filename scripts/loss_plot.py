from rnnlm.evaluation.report import plot_history, reference_losses
from rnnlm.training.history import read_history
from rnnlm.workflow import run

run(
    snakemake,  # noqa: F821 (injected by Snakemake)
    lambda s: plot_history(
        s.output[0], read_history(s.input.history), s.wildcards.model, reference_losses(s.input.baselines)
    ),
)
