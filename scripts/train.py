from rnnlm.workflow import run


def step(s):
    from rnnlm.training.train import train_model  # imports PyTensor: after logging is set up

    train_model(
        s.wildcards.model,
        s.params.spec,
        list(s.input.encoded),
        s.input.vocab,
        s.output.model,
        s.output.history,
        s.params.checkpoints,
        text=s.params.text,
    )


run(snakemake, step)  # noqa: F821
