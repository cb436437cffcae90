"""The Slurm preflight's reading of `sinfo` and its verdicts, on clusters described as sinfo
prints them (the real single-node Slurm: tests/test_pipeline_slurm.py)."""

from rnnlm.slurm import parse_gres, parse_sinfo, unplaceable

CLUSTER = parse_sinfo(
    "cpu01|cpu*|64|257000|(null)\n"
    "cpu02|cpu*|32|128000|(null)\n"
    "gpu01|gpu|16|192000|gpu:a100:4(S:0-1)\n"
    "gpu02|gpu|16|96000+|gpu:2,shard:8\n"
    "garbage line\n"
)


def test_sinfo_lines_become_nodes():
    assert [(n.name, n.partition, n.cpus, n.memory_mb, n.default) for n in CLUSTER] == [
        ("cpu01", "cpu", 64, 257000, True),
        ("cpu02", "cpu", 32, 128000, True),
        ("gpu01", "gpu", 16, 192000, False),
        ("gpu02", "gpu", 16, 96000, False),
    ]
    assert parse_gres("gpu:a100:4(S:0-1),gpu:v100:2,shard:8") == {"a100": 4, "v100": 2}
    assert parse_gres("gpu:2") == {"": 2} and parse_gres("(null)") == {}


def job(**asks):
    return {"rule": "train", "name": "model=gru"} | asks


def test_a_job_some_node_can_hold_passes():
    assert unplaceable(job(cpus=64, mem_mb=200000), CLUSTER) is None  # the default partition
    assert unplaceable(job(cpus=8, gpus=1, gpu_model="a100", partition="gpu"), CLUSTER) is None
    assert unplaceable(job(cpus=8, gpus=2, partition="gpu"), CLUSTER) is None  # any type
    assert unplaceable(job(cpus=None, mem_mb=None, gpus=None), CLUSTER) is None  # unknown yet: not checked


def test_a_job_no_node_can_hold_is_named_with_the_largest_node():
    assert unplaceable(job(cpus=65), CLUSTER) == (
        "slurm: rule train (model=gru) asks for 65 CPUs, but the largest node of partition 'cpu' has 64 "
        "(cpu01: 64 CPUs, 257,000 MB, no GPU): it would wait forever; change it in the config or the "
        "profile's set-resources, or choose another partition (slurm_partition)"
    )
    line = unplaceable(job(cpus=2, gpus=1, gpu_model="h100", partition="gpu"), CLUSTER)
    assert line.startswith("slurm: rule train (model=gru) asks for 1 GPU(s) of type h100, but the largest node")
    assert "has 0 (gpu01: 16 CPUs, 192,000 MB, gpu:a100:4)" in line
    assert "asks for 1 GPU(s), but" in unplaceable(job(gpus=1), CLUSTER)
    assert "asks for 300,000 MB of memory" in unplaceable(job(mem_mb=300000), CLUSTER)


def test_asks_that_fit_apart_but_not_together_and_unknown_partitions():
    assert unplaceable(job(gpus=4, mem_mb=150000, partition="gpu"), CLUSTER) is None  # gpu01
    line = unplaceable(job(gpus=3, mem_mb=200000, partition="gpu"), CLUSTER)
    assert "asks for 200,000 MB of memory, but the largest node of partition 'gpu' has 192,000 (gpu01" in line
    assert unplaceable(job(partition="bigmem"), CLUSTER) == (
        "slurm: rule train (model=gru) asks for partition 'bigmem', which has no node (partitions: cpu, gpu)"
    )
    together = unplaceable(job(cpus=40, gpus=0, mem_mb=200000), parse_sinfo("a|p*|64|100000|x\nb|p*|32|300000|x"))
    assert together.startswith("slurm: rule train (model=gru) asks for 40 CPUs, 200,000 MB and 0 GPU(s) at once")
