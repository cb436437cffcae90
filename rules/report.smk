# What `snakemake --report` shows: figures and HTML pages rendered from the stages' outputs
# (cheap jobs without PyTensor; rerunning one never reruns the stage it reads).


rule loss_plot:
    input:
        history=HISTORY,
        baselines=BASELINES,
        model=MODEL,
    output:
        report(
            LOSS_PLOT,
            caption="../report/loss.rst",
            category="Training",
            labels={"model": "{model}", "figure": "loss"},
        ),
    log:
        "logs/loss_plot/{model}.log",
    conda:
        "../envs/rnnlm.yaml"
    script:
        "../scripts/loss_plot.py"


rule gradcheck_page:
    input:
        GATE,
    output:
        report(
            GATE_PAGE,
            caption="../report/gradcheck.rst",
            category="Training",
            labels={"model": "{model}", "figure": "gradient check"},
        ),
    log:
        "logs/gradcheck_page/{model}.log",
    conda:
        "../envs/rnnlm.yaml"
    script:
        "../scripts/pages.py"


rule model_pages:
    input:
        eval=EVAL_JSON,
        samples=SAMPLES,
    output:
        eval=report(
            EVAL_PAGE,
            caption="../report/eval.rst",
            category="Evaluation",
            labels={"model": "{model}"},
        ),
        samples=report(
            SAMPLES_PAGE,
            caption="../report/samples.rst",
            category="Samples",
            labels={"model": "{model}"},
        ),
    log:
        "logs/model_pages/{model}.log",
    conda:
        "../envs/rnnlm.yaml"
    script:
        "../scripts/pages.py"


rule tokenization_page:
    input:
        expand(TOKEN_STATS, dump=DUMPS),
    output:
        report(TOKENIZATION_PAGE, caption="../report/tokenization.rst", category="Data"),
    log:
        "logs/tokenization_page.log",
    conda:
        "../envs/rnnlm.yaml"
    script:
        "../scripts/pages.py"


rule summary:
    input:
        expand(EVAL_JSON, model=MODELS),
    output:
        table=SUMMARY,
        page=report(SUMMARY_PAGE, caption="../report/summary.rst", category="Summary"),
        figure=report(
            COMPARISON_PLOT, caption="../report/comparison.rst", category="Summary"
        ),
    log:
        "logs/summary.log",
    conda:
        "../envs/rnnlm.yaml"
    script:
        "../scripts/summary.py"
