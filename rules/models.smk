rule gradcheck:
    output:
        "results/gradcheck/{model}.json",
    params:
        spec=get_model_spec,
        tolerance=config["gradcheck"]["tolerance"],
        mode=config["gradcheck"]["mode"],
    conda:
        "../envs/rnnlm.yaml"
    log:
        "logs/gradcheck/{model}.log",
    script:
        "../scripts/gradcheck.py"
