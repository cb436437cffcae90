from rnnlm.data.vocab import build_vocab, freeze_vocab
from rnnlm.workflow import run


def step(s):
    if s.params.frozen:
        freeze_vocab(s.params.frozen, s.output[0])
    else:
        build_vocab(list(s.input.counts), s.params.vocabulary_size, s.output[0])


run(snakemake, step)  # noqa: F821
