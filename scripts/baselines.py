from rnnlm.evaluation.evaluate import baselines
from rnnlm.workflow import run

run(
    snakemake,  # noqa: F821 (injected by Snakemake)
    lambda s: baselines(
        encoded=list(s.input.encoded),
        vocab_path=s.input.vocab,
        truth=list(s.input.truth),
        order=s.params.order,
        out=s.output.json,
        out_ngram=s.output.ngram,
        out_arpa=s.output.arpa,
    ),
)
