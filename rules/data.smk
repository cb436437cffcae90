rule synthetic_corpus:
    output:
        dump=SYNTHETIC_DUMP,
        truth=SYNTHETIC_TRUTH,
        entropy=SYNTHETIC_ENTROPY,
    log:
        "logs/synthetic_corpus/{name}.{ext}.log",
    wildcard_constraints:
        name=synthetic_names(),
        ext=r"csv|ndjson\.zst",
    conda:
        "../envs/rnnlm.yaml"
    params:
        synthetic=config["synthetic"],
    script:
        "../scripts/synthetic_corpus.py"


rule fetch:
    output:
        DOWNLOAD,
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
        tokens=TOKENS,
        stats=TOKEN_STATS,
    log:
        "logs/tokenize/{dump}.log",
    benchmark:
        "benchmarks/tokenize/{dump}.tsv"
    wildcard_constraints:
        dump=any_of(UNSHARDED),
    conda:
        "../envs/rnnlm.yaml"
    threads: get_tokenize_threads
    resources:
        **TOKENIZE_RESOURCES,
    params:
        **TOKENIZE_PARAMS,
    script:
        "../scripts/tokenize.py"


rule tokenize_shard:
    input:
        dump=get_dump_path,
    output:
        tokens=temp(SHARD_TOKENS),
        stats=temp(SHARD_STATS),
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
    threads: get_tokenize_threads
    resources:
        **TOKENIZE_RESOURCES,
    params:
        **TOKENIZE_PARAMS,
    script:
        "../scripts/tokenize.py"


rule merge_shards:
    input:
        tokens=get_shard_tokens,
        stats=get_shard_stats,
    output:
        tokens=TOKENS,
        stats=TOKEN_STATS,
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
        TOKENS,
    output:
        COUNTS,
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
        VOCAB,
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
        tokens=TOKENS,
        vocab=VOCAB,
    output:
        ENCODED,
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
