# rnnlm: reddit comment dumps -> tokens -> vocabulary -> encoded splits -> RNN language models.
# Run: snakemake --cores all   (see README.md; every config key: src/rnnlm/config.schema.yaml)


configfile: "config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/models.smk"
include: "rules/report.smk"


onstart:
    if on_slurm():
        slurm_preflight()


rule all:
    default_target: True
    input:
        get_final_outputs(),
