from rnnlm.data.synthetic import write_synthetic_dump
from rnnlm.workflow import run

run(
    snakemake,  # noqa: F821 (injected by Snakemake)
    lambda s: write_synthetic_dump(
        s.wildcards.name,
        s.output.dump,
        s.output.truth,
        s.output.entropy,
        comments=s.params.synthetic["comments"],
        seed=s.params.synthetic["seed"],
        topics=s.params.synthetic["topics"],
        topic_boost=s.params.synthetic["topic_boost"],
    ),
)
