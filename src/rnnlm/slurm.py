"""Before Snakemake submits jobs to Slurm: can every job start on some node of its partition,
and can job states be read from accounting (`sacct`) or only from the queue (`squeue`)?

Slurm queues a job that no node can ever hold (too many CPUs, too much memory, a GPU type no
node has) as PENDING forever (Reason=PartitionConfig), and Snakemake waits without a word; on a
cluster without accounting, Snakemake's default status command fails the same silent way.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from functools import cache

from rnnlm.errors import RnnlmError

SINFO = ["sinfo", "-h", "-N", "-o", "%N|%P|%c|%m|%G"]


@dataclass(frozen=True)
class Node:
    name: str
    partition: str
    cpus: int
    memory_mb: int
    gpus: dict[str, int] = field(default_factory=dict)  # GPU type ("" when untyped) -> count
    default: bool = False  # in the cluster's default partition

    def describe(self) -> str:
        gpus = ", ".join(f"gpu:{t}:{n}" if t else f"gpu:{n}" for t, n in self.gpus.items()) or "no GPU"
        return f"{self.name}: {self.cpus} CPUs, {self.memory_mb:,} MB, {gpus}"

    def gpu_count(self, model: str | None) -> int:
        return self.gpus.get(model, 0) if model else sum(self.gpus.values())


def parse_gres(gres: str) -> dict[str, int]:
    """`gpu:a100:4(S:0-1),gpu:2,shard:8` -> {"a100": 4, "": 2} (GPUs only)."""
    gpus: dict[str, int] = {}
    for item in re.sub(r"\([^)]*\)", "", gres).split(","):
        parts = item.strip().split(":")
        if parts[0] != "gpu" or len(parts) < 2 or not parts[-1].isdigit():
            continue
        kind = parts[1] if len(parts) == 3 else ""
        gpus[kind] = gpus.get(kind, 0) + int(parts[-1])
    return gpus


def parse_sinfo(text: str) -> list[Node]:
    """Nodes from `sinfo -h -N -o "%N|%P|%c|%m|%G"` (one line per node and partition)."""
    nodes = []
    for line in text.splitlines():
        fields = line.strip().split("|")
        if len(fields) != 5 or not fields[2].isdigit():
            continue
        name, partition, cpus, memory, gres = fields
        memory_mb = int(re.sub(r"\D.*", "", memory) or 0)  # "21694", or "21694+" when nodes differ
        default = partition.endswith("*")
        nodes.append(Node(name, partition.rstrip("*"), int(cpus), memory_mb, parse_gres(gres), default))
    return nodes


@cache
def cluster_nodes() -> tuple[Node, ...]:
    try:
        proc = subprocess.run(SINFO, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise RnnlmError(f"slurm: cannot list the cluster's nodes with sinfo: {e}") from None
    if proc.returncode != 0:
        error = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise RnnlmError(f"slurm: cannot list the cluster's nodes with sinfo: {error}")
    return tuple(parse_sinfo(proc.stdout))


def partition_nodes(nodes: tuple[Node, ...], partition: str | None) -> tuple[str, list[Node]]:
    """(the partition's name, its nodes): `partition`, or the cluster's default one."""
    if not partition:
        partition = next((n.partition for n in nodes if n.default), "")
    return partition, [n for n in nodes if n.partition == partition]


def most_cpus() -> int | None:
    """The most CPUs of any node of the cluster (None when sinfo cannot tell): a job asking for
    more can never start, in any partition."""
    try:
        return max((n.cpus for n in cluster_nodes()), default=None)
    except RnnlmError:
        return None  # the preflight reports it


def unplaceable(job: dict, nodes: tuple[Node, ...]) -> str | None:
    """Why no node of the job's partition can ever run it, in one line; None when one can.

    `job`: rule, name (its wildcards), cpus, mem_mb, gpus, gpu_model, partition (None: the
    cluster's default); a missing or None figure is not checked."""
    partition, members = partition_nodes(nodes, job.get("partition"))
    what = f"rule {job['rule']}" + (f" ({job['name']})" if job.get("name") else "")
    if not members:
        known = ", ".join(sorted({n.partition for n in nodes})) or "none"
        return f"slurm: {what} asks for partition {partition or '(default)'!r}, which has no node (partitions: {known})"
    model = job.get("gpu_model")
    asks = [
        ("CPUs", job.get("cpus") or 1, lambda n: n.cpus),
        ("MB of memory", job.get("mem_mb") or 0, lambda n: n.memory_mb),
        (f"GPU(s) of type {model}" if model else "GPU(s)", job.get("gpus") or 0, lambda n: n.gpu_count(model)),
    ]
    if any(all(asked <= has(n) for _, asked, has in asks) for n in members):
        return None
    hint = "change it in the config or the profile's set-resources, or choose another partition (slurm_partition)"
    for resource, asked, has in asks:
        best = max(members, key=has)
        if asked > has(best):
            return (
                f"slurm: {what} asks for {asked:,} {resource}, but the largest node of partition {partition!r} "
                f"has {has(best):,} ({best.describe()}): it would wait forever; {hint}"
            )
    sizes = "; ".join(n.describe() for n in members)
    return (
        f"slurm: {what} asks for {asks[0][1]} CPUs, {asks[1][1]:,} MB and {asks[2][1]} {asks[2][0]} at once, "
        f"which no node of partition {partition!r} has ({sizes}): it would wait forever; {hint}"
    )


def accounting_disabled() -> bool:
    """Whether `sacct` says the cluster keeps no accounting (no slurmdbd): job states are then
    only in the queue (`squeue`), for MinJobAge seconds after a job ends."""
    try:
        proc = subprocess.run(["sacct", "-n", "-X", "-j", "1"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False  # no sacct at all: the Slurm plugin uses squeue by itself
    return proc.returncode != 0 and "accounting storage is disabled" in proc.stderr
