"""The order Snakemake runs ready jobs in on a small machine: a train job that asks for every
core starts before the one-core jobs that would otherwise keep a core busy and make it wait."""

import re

from helpers import load_config

EVENT = re.compile(
    r"^(?:local)?rule (?P<rule>\w+):\n(?P<details>(?:[ \t]+.*\n)*)|^Finished jobid: \d+ \(Rule: (?P<finished>\w+)\)",
    re.MULTILINE,
)
MODEL = re.compile(r"^\s+wildcards: model=(\w+)$", re.MULTILINE)


def job_events(log: str) -> list[str]:
    """'start RULE [MODEL]' and 'finish RULE' in the order Snakemake's log reports them."""
    events = []
    for m in EVENT.finditer(log):
        if m["finished"]:
            events.append(f"finish {m['finished']}")
        else:
            model = MODEL.search(m["details"])
            events.append(f"start {m['rule']}" + (f" {model[1]}" if model else ""))
    return events


def test_the_train_job_using_every_core_starts_first(workflow):
    config = load_config("training")
    # the bundled run's shape: when the data is encoded a one-core RNN, the one-core
    # baselines and a two-core GRU are ready together; with equal priorities Snakemake's
    # solver is free to start the first two (it did there) and the GRU waits for both
    tiny = config["models"].pop("tiny")
    tiny["train"] = {"epochs": 1, "batch_size": 16, "eval_every": 1000}
    config["models"]["wide"] = tiny | {"threads": 2}
    config["models"]["narrow"] = tiny | {"cell": "rnn", "threads": 1}
    events = job_events(workflow.run(*workflow.configure(config)).stderr)

    assert {"start train narrow", "start train wide", "start baselines"} <= set(events), events
    wide = events.index("start train wide")
    assert wide < events.index("start train narrow")
    assert wide < events.index("start baselines")
    # it has both cores: the next thing that happens is that it ends
    assert events[wide + 1] == "finish train", events
