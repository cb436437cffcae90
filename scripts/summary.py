import json

from rnnlm.atomic import write_text
from rnnlm.evaluation.figures import plot_comparison
from rnnlm.evaluation.pages import summary_page
from rnnlm.evaluation.report import summarize
from rnnlm.workflow import run


def step(s):
    results = []
    for path in s.input:
        with open(path) as f:
            results.append(json.load(f))
    summarize(results, s.output.table)
    write_text(s.output.page, summary_page(results))
    plot_comparison(s.output.figure, results)


run(snakemake, step)  # noqa: F821
