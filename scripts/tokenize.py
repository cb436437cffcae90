from rnnlm.data.tokenize import tokenize_dump
from rnnlm.workflow import run

# The guard matters: the tokenizer's worker processes (spawned) import this file again.
if __name__ == "__main__":
    run(
        snakemake,  # noqa: F821 (injected by Snakemake)
        lambda s: tokenize_dump(
            s.input.dump, s.output.tokens, s.output.stats, dump=s.wildcards.dump, threads=s.threads,
            **dict(s.params.items()),
        ),
    )
