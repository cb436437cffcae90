rule gradcheck:
    output:
        "results/gradcheck/{model}.json",
    log:
        "logs/gradcheck/{model}.log",
    conda:
        "../envs/rnnlm.yaml"
    params:
        spec=get_gate_spec,
        tolerance=config["gradcheck"]["tolerance"],
        mode=config["gradcheck"]["mode"],
    script:
        "../scripts/gradcheck.py"


rule train:
    input:
        encoded=expand("results/encoded/{dump}.parquet", dump=DUMPS),
        vocab="results/vocab.parquet",
        gate="results/gradcheck/{model}.json",
    output:
        model="results/models/{model}/model.npz",
        history="results/models/{model}/history.csv",
    log:
        "logs/train/{model}.log",
    benchmark:
        "benchmarks/train/{model}.tsv"
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
        # outside the outputs, so that a failed or killed job keeps them for the rerun
        checkpoints=lambda wildcards: f"results/checkpoints/{wildcards.model}",
    script:
        "../scripts/train.py"


rule loss_plot:
    input:
        history="results/models/{model}/history.csv",
        baselines="results/baselines.json",
    output:
        report(
            "results/models/{model}/loss.png",
            caption="../report/loss.rst",
            category="Training",
            labels={"model": "{model}"},
        ),
    log:
        "logs/loss_plot/{model}.log",
    conda:
        "../envs/rnnlm.yaml"
    script:
        "../scripts/loss_plot.py"


rule baselines:
    input:
        encoded=expand("results/encoded/{dump}.parquet", dump=DUMPS),
        vocab="results/vocab.parquet",
        truth=get_truth_files(),
    output:
        json="results/baselines.json",
        ngram=f"results/ngram/kneser_ney_{config['evaluate']['kn_order']}.npz",
    log:
        "logs/baselines.log",
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
        model="results/models/{model}/model.npz",
        vocab="results/vocab.parquet",
        encoded=expand("results/encoded/{dump}.parquet", dump=DUMPS),
        baselines="results/baselines.json",
        ngram=f"results/ngram/kneser_ney_{config['evaluate']['kn_order']}.npz",
    output:
        json="results/models/{model}/eval.json",
        table=report(
            "results/models/{model}/eval.md",
            caption="../report/eval.rst",
            category="Evaluation",
            labels={"model": "{model}"},
        ),
    log:
        "logs/evaluate/{model}.log",
    conda:
        "../envs/rnnlm.yaml"
    script:
        "../scripts/evaluate.py"


rule generate:
    input:
        model="results/models/{model}/model.npz",
        vocab="results/vocab.parquet",
    output:
        report(
            "results/models/{model}/samples.txt",
            caption="../report/samples.rst",
            category="Samples",
            labels={"model": "{model}"},
        ),
    log:
        "logs/generate/{model}.log",
    conda:
        "../envs/rnnlm.yaml"
    params:
        settings=config["generate"] | {"normalize": config["normalize"]},
    script:
        "../scripts/generate.py"


rule summary:
    input:
        expand("results/models/{model}/eval.json", model=MODELS),
    output:
        report(
            "results/summary.md", caption="../report/summary.rst", category="Summary"
        ),
    log:
        "logs/summary.log",
    conda:
        "../envs/rnnlm.yaml"
    script:
        "../scripts/summary.py"
