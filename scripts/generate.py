from rnnlm.atomic import write_text
from rnnlm.workflow import run


def step(s):
    from rnnlm.evaluation.generate import LanguageModel  # imports PyTensor: after logging is set up

    lm = LanguageModel(s.input.model, s.input.vocab)
    sentences = lm.generate(**s.params.settings)
    write_text(s.output[0], "\n".join(sentences) + "\n")


run(snakemake, step)  # noqa: F821
