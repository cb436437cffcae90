# The guard matters: the tokenizer's worker processes (spawned) import this file again, and
# need none of it.
if __name__ == "__main__":
    from rnnlm.data.tokenize import tokenize_dump
    from rnnlm.workflow import run

    run(
        snakemake,  # noqa: F821 (injected by Snakemake)
        lambda s: tokenize_dump(
            s.input.dump,
            s.output.tokens,
            s.output.stats,
            dump=s.wildcards.dump,
            fmt=s.params.fmt,
            normalize=s.params.normalize,
            max_bad_fraction=s.params.max_bad_fraction,
            max_comment_chars=s.params.max_comment_chars,
            max_comment_seconds=s.params.max_comment_seconds,
            threads=s.threads,
            shard=s.params.shard,
            shards=s.params.shards,
        ),
    )
