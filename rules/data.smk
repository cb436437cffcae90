rule synthetic_corpus:
    output:
        dump="resources/synthetic/{name}.{ext}",
        truth="resources/synthetic/{name}.{ext}.truth.parquet",
        entropy="resources/synthetic/{name}.{ext}.entropy.json",
    wildcard_constraints:
        name=r"[A-Za-z0-9_-]+",
        ext=r"csv|ndjson\.zst",
    params:
        synthetic=config["synthetic"],
    conda:
        "../envs/rnnlm.yaml"
    log:
        "logs/synthetic_corpus/{name}.{ext}.log",
    script:
        "../scripts/synthetic_corpus.py"


rule fetch:
    output:
        "resources/dumps/{dump}/{filename}",
    params:
        url=get_fetch_url,
        sha256=get_fetch_sha256,
    conda:
        "../envs/rnnlm.yaml"
    log:
        "logs/fetch/{dump}/{filename}.log",
    retries: 2
    script:
        "../scripts/fetch.py"


rule tokenize:
    input:
        dump=get_dump_path,
    output:
        tokens="results/tokens/{dump}.parquet",
        stats="results/tokens/{dump}.stats.json",
    wildcard_constraints:
        dump=any_of(UNSHARDED),
    params:
        fmt=get_dump_format,
        normalize=config["normalize"],
        max_bad_fraction=config["max_bad_fraction"],
        max_comment_chars=config["max_comment_chars"],
        max_comment_seconds=config["max_comment_seconds"],
    threads: config["threads"]
    resources:
        # measured: ~200 MB plus ~180 MB per process; 1 minute per MB of dump and process
        # (twice the slowest measured rate: a .zst of the bundled corpus, 2 processes)
        mem_mb=lambda wildcards, threads: 1000 + 250 * threads,
        runtime=lambda wildcards, input, threads: 30 + math.ceil(input.size_mb / threads),
    conda:
        "../envs/rnnlm.yaml"
    log:
        "logs/tokenize/{dump}.log",
    benchmark:
        "benchmarks/tokenize/{dump}.tsv"
    script:
        "../scripts/tokenize.py"


rule tokenize_shard:
    input:
        dump=get_dump_path,
    output:
        tokens=temp("results/tokens/shards/{dump}/{shard}-of-{shards}.parquet"),
        stats=temp("results/tokens/shards/{dump}/{shard}-of-{shards}.stats.json"),
    wildcard_constraints:
        dump=any_of(SHARDED),
        shard=r"\d+",
        shards=r"\d+",
    params:
        fmt=get_dump_format,
        normalize=config["normalize"],
        max_bad_fraction=config["max_bad_fraction"],
        max_comment_chars=config["max_comment_chars"],
        max_comment_seconds=config["max_comment_seconds"],
        shard=lambda wildcards: int(wildcards.shard),
        shards=lambda wildcards: int(wildcards.shards),
    threads: config["threads"]
    resources:
        # every shard reads the whole file but tokenizes only its share
        mem_mb=lambda wildcards, threads: 1000 + 250 * threads,
        runtime=lambda wildcards, input, threads: 30
        + math.ceil(input.size_mb / threads / int(wildcards.shards)),
    conda:
        "../envs/rnnlm.yaml"
    log:
        "logs/tokenize/{dump}/{shard}-of-{shards}.log",
    benchmark:
        "benchmarks/tokenize/{dump}/{shard}-of-{shards}.tsv"
    script:
        "../scripts/tokenize.py"


rule merge_shards:
    input:
        tokens=get_shard_tokens,
        stats=get_shard_stats,
    output:
        tokens="results/tokens/{dump}.parquet",
        stats="results/tokens/{dump}.stats.json",
    wildcard_constraints:
        dump=any_of(SHARDED),
    params:
        max_bad_fraction=config["max_bad_fraction"],
    resources:
        mem_mb=2000,
    conda:
        "../envs/rnnlm.yaml"
    log:
        "logs/merge_shards/{dump}.log",
    benchmark:
        "benchmarks/merge_shards/{dump}.tsv"
    script:
        "../scripts/merge_shards.py"


rule count:
    input:
        "results/tokens/{dump}.parquet",
    output:
        "results/counts/{dump}.parquet",
    params:
        split=get_counted_split,
    conda:
        "../envs/rnnlm.yaml"
    log:
        "logs/count/{dump}.log",
    script:
        "../scripts/count.py"


rule vocab:
    input:
        unpack(get_vocab_input),
    output:
        "results/vocab.parquet",
    params:
        vocabulary_size=get_vocabulary_size,
        frozen=config["vocab"]["frozen"],
    conda:
        "../envs/rnnlm.yaml"
    log:
        "logs/vocab.log",
    script:
        "../scripts/vocab.py"


rule encode:
    input:
        tokens="results/tokens/{dump}.parquet",
        vocab="results/vocab.parquet",
    output:
        "results/encoded/{dump}.parquet",
    params:
        valid=config["split"]["valid"],
        test=config["split"]["test"],
    conda:
        "../envs/rnnlm.yaml"
    log:
        "logs/encode/{dump}.log",
    benchmark:
        "benchmarks/encode/{dump}.tsv"
    script:
        "../scripts/encode.py"
