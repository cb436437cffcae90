from rnnlm.atomic import write_text
from rnnlm.progress import log
from rnnlm.workflow import run


def step(s):
    from rnnlm.evaluation.generate import LanguageModel  # imports PyTensor: after logging is set up

    settings = s.params.settings
    lm = LanguageModel(s.input.model, s.input.vocab)
    sentences = list(
        lm.generate(
            settings["n"],
            temperature=settings["temperature"],
            prefix=settings["prefix"],
            max_length=settings["max_length"],
            min_length=settings["min_length"],
            seed=settings["seed"],
            normalize=s.params.normalize,
        )
    )
    write_text(s.output[0], "\n".join(sentences) + "\n")
    words = sum(len(line.split()) for line in sentences)
    log.info(
        f"generate {s.wildcards.model}: {len(sentences)} samples, {words / len(sentences):.1f} tokens each on average"
    )


run(snakemake, step)  # noqa: F821
