from rnnlm.atomic import write_json
from rnnlm.workflow import run


def step(s):
    from rnnlm.training.gradcheck import gradient_check  # imports PyTensor: after logging is set up

    result = gradient_check(s.wildcards.model, s.params.spec, tolerance=s.params.tolerance, mode=s.params.mode)
    write_json(s.output[0], result)


run(snakemake, step)  # noqa: F821
