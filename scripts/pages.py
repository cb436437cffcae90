import json

from rnnlm.atomic import write_text
from rnnlm.evaluation import pages
from rnnlm.progress import log
from rnnlm.workflow import run


def read(path):
    with open(path) as f:
        return json.load(f)


def step(s):
    if s.rule == "gradcheck_page":
        written = {s.output[0]: pages.gradcheck_page(read(s.input[0]))}
    elif s.rule == "tokenization_page":
        written = {s.output[0]: pages.tokenization_page([read(p) for p in s.input])}
    else:
        written = {
            s.output.eval: pages.eval_page(read(s.input.eval)),
            s.output.samples: pages.samples_page(s.wildcards.model, s.input.samples),
        }
    for path, html in written.items():
        write_text(path, html)
        log.info(f"{s.rule}: {path} ({len(html):,} bytes)")


run(snakemake, step)  # noqa: F821
