rule synthetic_corpus:
    output:
        dump="resources/synthetic/{name}.{ext}",
        truth="resources/synthetic/{name}.{ext}.truth.parquet",
        entropy="resources/synthetic/{name}.{ext}.entropy.json",
    log:
        "logs/synthetic_corpus/{name}.{ext}.log",
    wildcard_constraints:
        name=r"[A-Za-z0-9_-]+",
        ext=r"csv|ndjson\.zst",
    conda:
        "../envs/rnnlm.yaml"
    params:
        synthetic=config["synthetic"],
    script:
        "../scripts/synthetic_corpus.py"


rule fetch:
    output:
        "resources/dumps/{dump}/{filename}",
    log:
        "logs/fetch/{dump}/{filename}.log",
    retries: 2
    conda:
        "../envs/rnnlm.yaml"
    params:
        url=get_fetch_url,
        sha256=get_fetch_sha256,
    script:
        "../scripts/fetch.py"


rule tokenize:
    input:
        dump=get_dump_path,
    output:
        tokens="results/tokens/{dump}.parquet",
        stats="results/tokens/{dump}.stats.json",
    log:
        "logs/tokenize/{dump}.log",
    benchmark:
        "benchmarks/tokenize/{dump}.tsv"
    wildcard_constraints:
        dump=any_of(UNSHARDED),
    conda:
        "../envs/rnnlm.yaml"
    threads: config["threads"]
    resources:
        # measured: ~200 MB plus ~180 MB per process; 1 minute per MB of dump and process
        # (twice the slowest measured rate: a .zst of the bundled corpus, 2 processes)
        mem_mb=lambda wildcards, threads: 1000 + 250 * threads,
        runtime=lambda wildcards, input, threads: 30
        + math.ceil(input.size_mb / threads),
    params:
        fmt=get_dump_format,
        normalize=config["normalize"],
        max_bad_fraction=config["max_bad_fraction"],
        max_comment_chars=config["max_comment_chars"],
        max_comment_seconds=config["max_comment_seconds"],
    script:
        "../scripts/tokenize.py"


rule tokenize_shard:
    input:
        dump=get_dump_path,
    output:
        tokens=temp("results/tokens/shards/{dump}/{shard}-of-{shards}.parquet"),
        stats=temp("results/tokens/shards/{dump}/{shard}-of-{shards}.stats.json"),
    log:
        "logs/tokenize/{dump}/{shard}-of-{shards}.log",
    benchmark:
        "benchmarks/tokenize/{dump}/{shard}-of-{shards}.tsv"
    wildcard_constraints:
        dump=any_of(SHARDED),
        shard=r"\d+",
        shards=r"\d+",
    conda:
        "../envs/rnnlm.yaml"
    threads: config["threads"]
    resources:
        # every shard reads the whole file but tokenizes only its share
        mem_mb=lambda wildcards, threads: 1000 + 250 * threads,
        runtime=lambda wildcards, input, threads: 30
        + math.ceil(input.size_mb / threads / int(wildcards.shards)),
    params:
        fmt=get_dump_format,
        normalize=config["normalize"],
        max_bad_fraction=config["max_bad_fraction"],
        max_comment_chars=config["max_comment_chars"],
        max_comment_seconds=config["max_comment_seconds"],
        shard=lambda wildcards: int(wildcards.shard),
        shards=lambda wildcards: int(wildcards.shards),
    script:
        "../scripts/tokenize.py"


rule merge_shards:
    input:
        tokens=get_shard_tokens,
        stats=get_shard_stats,
    output:
        tokens="results/tokens/{dump}.parquet",
        stats="results/tokens/{dump}.stats.json",
    log:
        "logs/merge_shards/{dump}.log",
    benchmark:
        "benchmarks/merge_shards/{dump}.tsv"
    wildcard_constraints:
        dump=any_of(SHARDED),
    conda:
        "../envs/rnnlm.yaml"
    resources:
        mem_mb=2000,
    params:
        max_bad_fraction=config["max_bad_fraction"],
    script:
        "../scripts/merge_shards.py"


rule count:
    input:
        "results/tokens/{dump}.parquet",
    output:
        "results/counts/{dump}.parquet",
    log:
        "logs/count/{dump}.log",
    benchmark:
        "benchmarks/count/{dump}.tsv"
    conda:
        "../envs/rnnlm.yaml"
    params:
        split=get_counted_split,
    script:
        "../scripts/count.py"


rule vocab:
    input:
        unpack(get_vocab_input),
    output:
        "results/vocab.parquet",
    log:
        "logs/vocab.log",
    benchmark:
        "benchmarks/vocab.tsv"
    conda:
        "../envs/rnnlm.yaml"
    params:
        vocabulary_size=get_vocabulary_size,
        frozen=config["vocab"]["frozen"],
    script:
        "../scripts/vocab.py"


rule encode:
    input:
        tokens="results/tokens/{dump}.parquet",
        vocab="results/vocab.parquet",
    output:
        "results/encoded/{dump}.parquet",
    log:
        "logs/encode/{dump}.log",
    benchmark:
        "benchmarks/encode/{dump}.tsv"
    conda:
        "../envs/rnnlm.yaml"
    params:
        valid=config["split"]["valid"],
        test=config["split"]["test"],
    script:
        "../scripts/encode.py"
