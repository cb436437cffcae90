from rnnlm.data.fetch import fetch
from rnnlm.workflow import run

run(snakemake, lambda s: fetch(s.params.url, s.output[0], s.params.sha256))  # noqa: F821
