rule gradcheck:
    output:
        GATE,
    log:
        "logs/gradcheck/{model}.log",
    conda:
        "../envs/rnnlm.yaml"
    resources:
        # the default profile runs one gate at a time: the first compiles the float64 kernels
        # the others share (two at once compile them twice, ~20 s longer on 2 cores)
        gradcheck_jobs=1,
    params:
        spec=get_gate_spec,
        tolerance=config["gradcheck"]["tolerance"],
        mode=config["gradcheck"]["mode"],
    script:
        "../scripts/gradcheck.py"


rule compile:
    output:
        COMPILED,
    log:
        "logs/compile/{model}.log",
    benchmark:
        "benchmarks/compile/{model}.tsv"
    conda:
        "../envs/rnnlm.yaml"
    params:
        graph=get_graph_spec,
    script:
        "../scripts/compile.py"


rule train:
    input:
        encoded=expand(ENCODED, dump=DUMPS),
        vocab=VOCAB,
        gate=GATE,
        compiled=get_compiled,
    output:
        model=MODEL,
        history=HISTORY,
    log:
        "logs/train/{model}.log",
    benchmark:
        "benchmarks/train/{model}.tsv"
    priority: get_train_priority
    conda:
        "../envs/rnnlm.yaml"
    threads: get_train_threads
    resources:
        gpu=get_train_gpus,
        gpu_model=get_train_gpu_model,
        mem_mb=4000,
        runtime=24 * 60,  # minutes; a job that runs out of time resumes from its checkpoints on rerun
    params:
        spec=get_model_spec,
        text=get_text_preparation(),
        # outside the outputs, so that a failed or killed job keeps them for the rerun
        checkpoints=get_checkpoint_dir,
    script:
        "../scripts/train.py"


rule baselines:
    input:
        encoded=expand(ENCODED, dump=DUMPS),
        vocab=VOCAB,
        truth=get_truth_files(),
    output:
        json=BASELINES,
        ngram=NGRAM,
        arpa=ARPA,
    log:
        "logs/baselines.log",
    benchmark:
        "benchmarks/baselines.tsv"
    conda:
        "../envs/rnnlm.yaml"
    resources:
        # the n-gram counts are in memory: measured ~200 MB per MB of encoded Parquet
        mem_mb=lambda wildcards, input: 1000 + 250 * math.ceil(input.size_mb),
        runtime=lambda wildcards, input: 30 + math.ceil(input.size_mb / 5),
    params:
        order=config["evaluate"]["kn_order"],
    script:
        "../scripts/baselines.py"


rule evaluate:
    input:
        model=MODEL,
        vocab=VOCAB,
        encoded=expand(ENCODED, dump=DUMPS),
        baselines=BASELINES,
        ngram=NGRAM,
    output:
        json=EVAL_JSON,
        table=EVAL_MD,
    log:
        "logs/evaluate/{model}.log",
    benchmark:
        "benchmarks/evaluate/{model}.tsv"
    conda:
        "../envs/rnnlm.yaml"
    params:
        max_tokens=config["evaluate"]["max_tokens"],
    script:
        "../scripts/evaluate.py"


rule generate:
    input:
        model=MODEL,
        vocab=VOCAB,
    output:
        SAMPLES,
    log:
        "logs/generate/{model}.log",
    conda:
        "../envs/rnnlm.yaml"
    params:
        settings=config["generate"],
        normalize=config["normalize"],
    script:
        "../scripts/generate.py"
