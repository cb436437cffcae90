from rnnlm.workflow import run


def step(s):
    from rnnlm.evaluation.evaluate import evaluate_model  # imports PyTensor: after logging is set up

    evaluate_model(
        s.wildcards.model,
        s.input.model,
        s.input.vocab,
        list(s.input.encoded),
        s.input.baselines,
        s.input.ngram,
        s.output.json,
        s.output.table,
        max_tokens=s.params.max_tokens,
    )


run(snakemake, step)  # noqa: F821
