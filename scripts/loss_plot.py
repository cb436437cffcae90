from rnnlm.evaluation.figures import plot_history, reference_losses
from rnnlm.models.io import read_model
from rnnlm.training.history import read_history
from rnnlm.workflow import run


def step(s):
    _, training = read_model(s.input.model)
    history = read_history(s.input.history)
    plot_history(s.output[0], history, s.wildcards.model, reference_losses(s.input.baselines), training)


run(snakemake, step)  # noqa: F821
