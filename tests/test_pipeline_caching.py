"""Real `snakemake` runs on tiny configs: caching, incremental dumps, URL inputs, errors."""

import hashlib
import http.server
import json
import shutil
import threading
from functools import partial

import pyarrow.parquet as pq
import pytest
import yaml
from helpers import DATA, REPO, Workflow


def with_dump_c(config):
    config["dumps"]["c"] = {"path": "resources/synthetic/c.csv", "synthetic": True}
    return config


@pytest.fixture(scope="module")
def ran(new_workflow, test_config):
    """One full run of the data stages on two dumps (a CSV and a .zst)."""
    workflow = new_workflow("pipeline")
    args = workflow.configure(test_config("two-dumps"))
    workflow.run(*args)
    return workflow, args


def test_run_produces_every_output_and_a_rerun_does_nothing(ran, test_config):
    workflow, args = ran
    workdir = workflow.workdir
    for dump in ("a", "b"):
        stats = json.loads((workdir / f"results/tokens/{dump}.stats.json").read_text())
        assert stats["comments_read"] == stats["comments_kept"] == 120
        truth = pq.read_table(workdir / f"{test_config('two-dumps')['dumps'][dump]['path']}.truth.parquet")
        encoded = pq.read_table(workdir / f"results/encoded/{dump}.parquet")
        assert set(encoded.column("comment_id").to_pylist()) == set(truth.column("comment_id").to_pylist())
        assert encoded.num_rows == stats["sentences"] == sum(truth.column("sentences").to_pylist())
        assert (workdir / f"logs/tokenize/{dump}.log").read_text().count("comments kept") == 1
    vocab = pq.read_table(workdir / "results/vocab.parquet")
    assert vocab.num_rows == 300
    assert workflow.planned(*args) == {}


def test_adding_a_dump_tokenizes_and_counts_only_that_dump(ran, test_config):
    workflow, _ = ran
    more = workflow.configure(with_dump_c(test_config("two-dumps")), "three.yaml")
    assert workflow.planned(*more) == {
        "synthetic_corpus": 1,
        "tokenize": 1,
        "count": 1,
        "vocab": 1,
        "encode": 3,
        "tokenization_page": 1,  # the report's table of every dump
        "all": 1,
    }


def test_changing_vocabulary_size_reencodes_without_retokenizing(ran, test_config):
    workflow, _ = ran
    args = workflow.configure(test_config("two-dumps") | {"vocabulary_size": 200}, "smaller.yaml")
    assert workflow.planned(*args) == {"vocab": 1, "encode": 2, "all": 1}


def test_frozen_vocabulary_makes_a_new_dump_change_nothing_that_exists(ran, tmp_path, test_config):
    workdir = tmp_path / "run"
    shutil.copytree(ran[0].workdir, workdir, symlinks=True)  # a copy: the other tests keep the shared run as it is
    workflow = Workflow(workdir)
    frozen = tmp_path / "frozen-vocab.parquet"
    shutil.copy(workdir / "results/vocab.parquet", frozen)
    config = test_config("two-dumps") | {"vocab": {"frozen": str(frozen)}}
    args = workflow.configure(config)
    workflow.run(*args)
    before = {d: (workdir / f"results/encoded/{d}.parquet").stat().st_mtime_ns for d in ("a", "b")}
    more = workflow.configure(with_dump_c(config))
    assert workflow.planned(*more) == {
        "synthetic_corpus": 1,
        "tokenize": 1,
        "encode": 1,
        "tokenization_page": 1,
        "all": 1,
    }
    workflow.run(*more)
    assert before == {d: (workdir / f"results/encoded/{d}.parquet").stat().st_mtime_ns for d in ("a", "b")}


def test_user_configfile_replaces_the_bundled_dumps(tmp_path, workflow):
    shutil.copy(REPO / "config.yaml", tmp_path / "config.yaml")  # as when run from the repo
    user = tmp_path / "mine.yaml"
    user.write_text(yaml.safe_dump({"dumps": {"mine": {"path": str(DATA / "reddit-sample.csv")}}}))
    jobs = workflow.planned("--configfile", str(user))
    assert jobs["tokenize"] == jobs["encode"] == 1 and "synthetic_corpus" not in jobs
    assert jobs["train"] == 2  # the bundled models are kept: the user's file names none
    bundled = workflow.planned()
    assert bundled["tokenize"] == 2 and bundled["synthetic_corpus"] == 2


@pytest.fixture
def http_dir(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.slow
def test_url_dump_is_fetched_verified_and_cached(http_dir, tmp_path):
    served, base = http_dir
    shutil.copy(DATA / "reddit-sample.csv", served / "reddit.csv")
    digest = hashlib.sha256((served / "reddit.csv").read_bytes()).hexdigest()
    work = tmp_path / "work"
    work.mkdir()
    workflow = Workflow(work)
    args = workflow.configure({"dumps": {"web": {"path": f"{base}/reddit.csv?raw=true", "sha256": digest}}})
    workflow.run(*args)
    cached = work / "resources/dumps/web/reddit.csv"
    assert cached.read_bytes() == (served / "reddit.csv").read_bytes()
    assert "sha256 " + digest in (work / "logs/fetch/web/reddit.csv.log").read_text()
    assert json.loads((work / "results/tokens/web.stats.json").read_text())["comments_kept"] == 32
    assert workflow.planned(*args) == {}

    bad = workflow.configure({"dumps": {"web2": {"path": f"{base}/reddit.csv", "sha256": "0" * 64}}})
    proc = workflow.run(*bad, check=False)
    assert proc.returncode != 0
    assert "sha256 mismatch" in (work / "logs/fetch/web2/reddit.csv.log").read_text()
    assert not (work / "resources/dumps/web2/reddit.csv").exists()


def test_bad_config_key_is_named_without_traceback(workflow, test_config):
    args = workflow.configure(test_config("two-dumps") | {"vocabulary_sise": 10})
    proc = workflow.run(*args, "-n", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "vocabulary_sise" in out and "Traceback" not in out


def test_missing_dump_file_is_named(workflow):
    args = workflow.configure({"dumps": {"x": {"path": "no/such.csv"}}})
    proc = workflow.run(*args, "-n", check=False)
    assert proc.returncode != 0
    assert "dumps.x.path: no such file: no/such.csv" in proc.stdout + proc.stderr


def test_bad_dump_fails_its_job_with_one_line(tmp_path, workflow):
    (tmp_path / "bad.ndjson").write_bytes(b"not json\n" * 5)
    args = workflow.configure({"dumps": {"bad": {"path": "bad.ndjson"}}})
    proc = workflow.run(*args, check=False)
    assert proc.returncode != 0
    log = (tmp_path / "logs/tokenize/bad.log").read_text()
    assert "error: bad.ndjson: 5 of 5 records are bad" in log
    assert "Traceback" not in log
    assert not (tmp_path / "results/tokens/bad.parquet").exists()


def test_a_sharded_dump_gives_exactly_the_unsharded_rows_vocabulary_and_stats(tmp_path, workflow):
    path = "resources/synthetic/big.ndjson.zst"  # 2,500 records: blocks of 1,024 in three shards
    dumps = {
        "whole": {"path": path, "synthetic": True, "shards": 1},
        "sharded": {"path": path, "synthetic": True, "shards": 3},
    }
    args = workflow.configure({"dumps": dumps, "synthetic": {"comments": 2500}, "vocabulary_size": 500})
    jobs = workflow.planned(*args)
    assert jobs["tokenize"] == 1 and jobs["tokenize_shard"] == 3 and jobs["merge_shards"] == 1
    workflow.run(*args)
    for stage in ("tokens", "counts", "encoded"):
        whole = pq.read_table(tmp_path / f"results/{stage}/whole.parquet")
        sharded = pq.read_table(tmp_path / f"results/{stage}/sharded.parquet")
        assert whole.num_rows > 1000 and whole.equals(sharded), stage
    whole, sharded = (json.loads((tmp_path / f"results/tokens/{d}.stats.json").read_text()) for d in dumps)
    for key in ("comments_read", "comments_kept", "skipped", "cleaned", "bad_records", "sentences", "tokens"):
        assert whole[key] == sharded[key], key
    assert sharded["shards"] == 3 and whole["comments_read"] == 2500
    logs = sorted(p.name for p in (tmp_path / "logs/tokenize/sharded").iterdir())
    assert logs == ["0-of-3.log", "1-of-3.log", "2-of-3.log"]
    assert not list((tmp_path / "results/tokens/shards").rglob("*.parquet"))  # temporary: gone after the merge
