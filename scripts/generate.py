from rnnlm.atomic import write_text
from rnnlm.workflow import run


def step(s):
    from rnnlm.evaluation.generate import LanguageModel  # imports PyTensor: after logging is set up

    settings = s.params.settings
    lm = LanguageModel(s.input.model, s.input.vocab)
    sentences = lm.generate(
        settings["n"],
        temperature=settings["temperature"],
        prefix=settings["prefix"],
        max_length=settings["max_length"],
        min_length=settings["min_length"],
        seed=settings["seed"],
        normalize=s.params.normalize,
    )
    write_text(s.output[0], "\n".join(sentences) + "\n")


run(snakemake, step)  # noqa: F821
