"""The pipeline on a real Slurm, through the users' profile (profiles/slurm).

Needs a reachable Slurm with a GPU GRES of type `fake` and a MinJobAge of some minutes, so that
`scontrol show job` still shows finished jobs (`make slurm-up` starts one on this machine:
.ci/slurm-start.sh); skipped when `sinfo` fails or shows no such GPU. The CI Slurm has no accounting: the
preflight (rnnlm.slurm) must see that and read job states with squeue by itself (with sacct,
Snakemake would wait forever); the runs add only `--slurm-init-seconds-before-status-checks 2`
(the first poll after 2 s, not 40), for speed.
"""

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml
from helpers import BIN, REPO, Workflow, load_config, model_params


def _sinfo() -> tuple[bool, str]:
    if shutil.which("sinfo") is None:
        return False, "no Slurm reachable: `sinfo` is not installed (`make slurm-up` starts one here)"
    try:
        proc = subprocess.run(["sinfo", "-h", "-o", "%P %T %G"], capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        return False, "no Slurm reachable: `sinfo` did not answer in 20 s (`make slurm-up` starts one here)"
    if proc.returncode != 0:
        error = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return False, f"no Slurm reachable: `sinfo` failed ({error}); `make slurm-up` starts one here"
    if "gpu:fake" not in proc.stdout:
        return False, (
            f"this Slurm has no GPU of type `fake` (sinfo: {proc.stdout.strip()!r}); `make slurm-up` starts one here"
        )
    return True, proc.stdout


REACHABLE, SINFO = _sinfo()
pytestmark = [pytest.mark.skipif(not REACHABLE, reason=SINFO), pytest.mark.slow]

TARGET = "results/models/tiny/model.npz"
TINY = load_config("slurm")
RULES = {"synthetic_corpus", "tokenize", "count", "vocab", "encode", "gradcheck", "train"}
CI_CLUSTER = [
    "--slurm-init-seconds-before-status-checks",
    "2",
    "--slurm-keep-successful-logs",
]


def configure(workdir: Path, config: dict) -> list[str]:
    return Workflow(workdir).configure(config)


def run_on_slurm(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    """run_snakemake's command with the users' Slurm profile. The jobs run `python -m snakemake`
    with this environment (sbatch --export=ALL): the venv's bin goes first on PATH."""
    cmd = [
        str(BIN / "snakemake"),
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--cores",
        "2",
        "--profile",
        str(REPO / "profiles/slurm"),
        *CI_CLUSTER,
        *args,
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNAKEMAKE")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=workdir, timeout=900)


def scontrol(job_id: str) -> dict[str, str]:
    out = subprocess.run(["scontrol", "show", "job", "-o", job_id], capture_output=True, text=True, check=True).stdout
    return dict(field.split("=", 1) for field in out.split() if "=" in field)


@pytest.fixture(scope="module")
def on_slurm(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("slurm")
    started = time.monotonic()
    proc = run_on_slurm(workdir, TARGET, *configure(workdir, TINY))
    print(f"slurm run: {time.monotonic() - started:.1f} s")
    assert proc.returncode == 0, f"snakemake on Slurm failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return workdir, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("local")
    Workflow(workdir).run(TARGET, *configure(workdir, TINY))
    return workdir


def slurm_jobs(workdir: Path) -> dict[str, str]:
    """rule -> Slurm job id, from the plugin's logs .snakemake/slurm_logs/rule_{rule}/[{wildcards}/]{jobid}.log"""
    jobs = {}
    for log in (workdir / ".snakemake/slurm_logs").rglob("*.log"):
        rule = log.relative_to(workdir / ".snakemake/slurm_logs").parts[0].removeprefix("rule_")
        assert rule not in jobs, f"two Slurm jobs for {rule}"
        jobs[rule] = log.stem
    return jobs


def test_every_job_ran_as_a_slurm_job(on_slurm):
    workdir, output = on_slurm
    jobs = slurm_jobs(workdir)
    assert set(jobs) == RULES
    submitted = dict(re.findall(r"Job \d+ has been submitted with SLURM jobid (\d+) \(log: \S*/rule_(\w+?)/", output))
    assert {rule: job for job, rule in submitted.items()} == jobs
    for rule, job_id in jobs.items():
        assert job_id.isdigit()
        job = scontrol(job_id)
        assert job["JobId"] == job_id
        assert job["JobState"] == "COMPLETED" and job["ExitCode"] == "0:0", (rule, job)
        assert job["WorkDir"] == str(workdir)
        assert job["Comment"].startswith(f"rule_{rule}")
    # the job step ran Snakemake inside the allocation (the jobstep executor, one job)
    train_log = next((workdir / ".snakemake/slurm_logs/rule_train").rglob("*.log")).read_text()
    assert "localrule train:" in train_log or "rule train:" in train_log
    assert "Finished job" in train_log or "Finished jobid" in train_log


def test_train_job_had_the_gpu_and_threads_it_asked_for(on_slurm):
    workdir, _ = on_slurm
    jobs = slurm_jobs(workdir)
    train = scontrol(jobs["train"])
    assert "gpu:fake:1" in train["TresPerJob"]  # sbatch --gpus=fake:1, from gpu: true and gpu_model: fake
    assert train["NumCPUs"] == "2" and train["MinMemoryNode"] == "4000M"
    for rule in RULES - {"train"}:
        assert "gpu" not in scontrol(jobs[rule]).get("TresPerJob", ""), rule
    tokenize = scontrol(jobs["tokenize"])  # the config's threads: 8, capped at the node's 2 CPUs
    assert tokenize["NumCPUs"] == "2" and tokenize["MinMemoryNode"] == "1500M"  # 1000 + 250 per process


def test_preflight_caps_tokenize_and_reads_states_from_the_queue(on_slurm):
    _, output = on_slurm
    assert "rnnlm: slurm: tokenize runs 2 processes, not the config's threads: 8: no node has more CPUs" in output
    assert "(sacct: accounting storage is disabled): job states are read with squeue" in output


def test_a_job_no_node_can_run_is_refused_before_any_submission(tmp_path):
    """More memory than the node has (here from set-resources, as a profile would ask), or a
    GPU type it lacks: one line, exit code 2, nothing submitted (Slurm would queue the job
    forever, Reason=PartitionConfig). (More threads than `--cores` Snakemake scales down.)"""
    tiny = TINY["models"]["tiny"]
    for change, args, expected in [
        ({}, ["--set-resources", "train:mem_mb=10000000"], "asks for 10,000,000 MB of memory, but the largest node"),
        ({"gpu_model": "a100"}, [], "asks for 1 GPU(s) of type a100, but the largest node of partition 'debug' has 0"),
    ]:
        config = TINY | {"models": {"tiny": tiny | change}}
        proc = run_on_slurm(tmp_path, TARGET, *configure(tmp_path, config), *args)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        lines = [line for line in proc.stderr.splitlines() if line.startswith("rnnlm:")]
        assert len(lines) == 1 and f"rnnlm: slurm: rule train (model=tiny) {expected}" in lines[0], proc.stderr
        assert re.search(r"\(\S+: 2 CPUs, [\d,]+ MB, gpu:fake:1\)", lines[0]) and "Traceback" not in proc.stderr
        assert not (tmp_path / ".snakemake/slurm_logs").exists()  # nothing was submitted


def test_where_a_model_trains_does_not_retrain_it(on_slurm):
    workdir, _ = on_slurm
    moved = TINY | {"models": {"tiny": TINY["models"]["tiny"] | {"gpu": "optional", "threads": 1}}}
    del moved["models"]["tiny"]["gpu_model"]
    workflow = Workflow(workdir)
    # ("--cores 2" ends planned's `--quiet rules` list, so that the target is a target)
    assert workflow.planned("--cores", "2", TARGET, *workflow.configure(moved, "moved.yaml")) == {}
    reseeded = TINY | {"models": {"tiny": TINY["models"]["tiny"] | {"seed": 1}}}  # what it learns: retrains
    (workdir / "reseeded.yaml").write_text(yaml.safe_dump(reseeded))
    assert Workflow(workdir).planned("--cores", "2", TARGET, "--configfile", str(workdir / "reseeded.yaml")) == {
        "train": 1
    }


def test_slurm_outputs_equal_a_local_runs(on_slurm, local):
    workdir, _ = on_slurm
    for path in ("results/vocab.parquet", "results/encoded/a.parquet", "results/tokens/a.parquet"):
        a, b = pq.read_table(workdir / path), pq.read_table(local / path)
        assert a.num_rows > 0 and a.equals(b), path
    a, b = model_params(workdir / TARGET), model_params(local / TARGET)
    assert a.keys() == b.keys() and len(a) > 0
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)  # same machine, same arithmetic: bit-identical


def test_a_failing_job_fails_the_run(tmp_path):
    bad = tmp_path / "bad.ndjson"
    bad.write_text("".join(f"{{not json {i}\n" for i in range(50)))
    config = {"dumps": {"bad": {"path": str(bad)}}, "models": {}}
    proc = run_on_slurm(tmp_path, "results/tokens/bad.parquet", *configure(tmp_path, config))
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    failed = re.findall(r"SLURM-job '(\d+)' failed, SLURM status is: 'FAILED'", output)
    assert len(failed) == 2, output  # the profile's `retries: 1`: submitted twice
    for job_id in failed:
        assert scontrol(job_id)["JobState"] == "FAILED"
    assert "50 of 50 records are bad" in (tmp_path / "logs/tokenize/bad.log").read_text()
    assert not (tmp_path / "results/tokens/bad.parquet").exists()
