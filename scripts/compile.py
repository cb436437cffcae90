from rnnlm.atomic import write_json
from rnnlm.workflow import run


def step(s):
    from rnnlm.training.precompile import compile_graphs  # imports PyTensor: after logging is set up

    write_json(s.output[0], compile_graphs(s.wildcards.model, s.params.graph))


run(snakemake, step)  # noqa: F821
