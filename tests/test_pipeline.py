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
from conftest import DATA, REPO, planned_jobs, run_snakemake


def write_config(workdir, name="config.yaml", **config):
    (workdir / name).write_text(yaml.safe_dump(config))
    return ["--configfile", str(workdir / name)]


SMALL = {"synthetic": {"comments": 120}}
TWO_DUMPS = {
    "a": {"path": "resources/synthetic/a.csv"},
    "b": {"path": "resources/synthetic/b.ndjson.zst"},
}


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """One full run of a two-dump config (a CSV and a .zst)."""
    workdir = tmp_path_factory.mktemp("pipeline")
    args = write_config(workdir, dumps=TWO_DUMPS, vocabulary_size=300, **SMALL)
    run_snakemake(workdir, *args)
    return workdir, args


def test_run_produces_every_output_and_a_rerun_does_nothing(ran):
    workdir, args = ran
    for dump in ("a", "b"):
        stats = json.loads((workdir / f"results/tokens/{dump}.stats.json").read_text())
        assert stats["comments_read"] == stats["comments_kept"] == 120
        truth = pq.read_table(workdir / f"resources/synthetic/{TWO_DUMPS[dump]['path'].split('/')[-1]}.truth.parquet")
        encoded = pq.read_table(workdir / f"results/encoded/{dump}.parquet")
        assert set(encoded.column("comment_id").to_pylist()) == set(truth.column("comment_id").to_pylist())
        assert encoded.num_rows == stats["sentences"] == sum(truth.column("sentences").to_pylist())
        assert (workdir / f"logs/tokenize/{dump}.log").read_text().count("comments kept") == 1
    vocab = pq.read_table(workdir / "results/vocab.parquet")
    assert vocab.num_rows == 300
    assert planned_jobs(workdir, *args) == {}


def test_adding_a_dump_tokenizes_and_counts_only_that_dump(ran):
    workdir, args = ran
    three = TWO_DUMPS | {"c": {"path": "resources/synthetic/c.csv"}}
    more = write_config(workdir, "three.yaml", dumps=three, vocabulary_size=300, **SMALL)
    assert planned_jobs(workdir, *more) == {
        "synthetic_corpus": 1,
        "tokenize": 1,
        "count": 1,
        "vocab": 1,
        "encode": 3,
        "all": 1,
    }


def test_changing_vocabulary_size_reencodes_without_retokenizing(ran):
    workdir, _ = ran
    args = write_config(workdir, "smaller.yaml", dumps=TWO_DUMPS, vocabulary_size=200, **SMALL)
    assert planned_jobs(workdir, *args) == {"vocab": 1, "encode": 2, "all": 1}


def test_frozen_vocabulary_makes_a_new_dump_change_nothing_that_exists(ran, tmp_path):
    workdir = tmp_path / "run"
    shutil.copytree(ran[0], workdir, symlinks=True)  # a copy: the other tests keep the shared run as it is
    frozen = tmp_path / "frozen-vocab.parquet"
    shutil.copy(workdir / "results/vocab.parquet", frozen)
    args = write_config(workdir, dumps=TWO_DUMPS, vocab={"frozen": str(frozen)}, **SMALL)
    run_snakemake(workdir, *args)
    before = {d: (workdir / f"results/encoded/{d}.parquet").stat().st_mtime_ns for d in ("a", "b")}
    more = write_config(
        workdir, dumps=TWO_DUMPS | {"c": {"path": "resources/synthetic/c.csv"}}, vocab={"frozen": str(frozen)}, **SMALL
    )
    assert planned_jobs(workdir, *more) == {"synthetic_corpus": 1, "tokenize": 1, "encode": 1, "all": 1}
    run_snakemake(workdir, *more)
    assert before == {d: (workdir / f"results/encoded/{d}.parquet").stat().st_mtime_ns for d in ("a", "b")}


def test_user_configfile_replaces_the_bundled_dumps(tmp_path):
    shutil.copy(REPO / "config.yaml", tmp_path / "config.yaml")  # as when run from the repo
    user = tmp_path / "mine.yaml"
    user.write_text(yaml.safe_dump({"dumps": {"mine": {"path": str(DATA / "reddit-sample.csv")}}}))
    jobs = planned_jobs(tmp_path, "--configfile", str(user))
    assert jobs["tokenize"] == jobs["encode"] == 1 and "synthetic_corpus" not in jobs
    assert jobs["train"] == 2  # the bundled models are kept: the user's file names none
    bundled = planned_jobs(tmp_path)
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


def test_url_dump_is_fetched_verified_and_cached(http_dir, tmp_path):
    served, base = http_dir
    shutil.copy(DATA / "reddit-sample.csv", served / "reddit.csv")
    digest = hashlib.sha256((served / "reddit.csv").read_bytes()).hexdigest()
    work = tmp_path / "work"
    work.mkdir()
    args = write_config(work, dumps={"web": {"path": f"{base}/reddit.csv?raw=true", "sha256": digest}})
    run_snakemake(work, *args)
    cached = work / "resources/dumps/web/reddit.csv"
    assert cached.read_bytes() == (served / "reddit.csv").read_bytes()
    assert "sha256 " + digest in (work / "logs/fetch/web/reddit.csv.log").read_text()
    assert json.loads((work / "results/tokens/web.stats.json").read_text())["comments_kept"] == 32
    assert planned_jobs(work, *args) == {}

    bad = write_config(work, dumps={"web2": {"path": f"{base}/reddit.csv", "sha256": "0" * 64}})
    proc = run_snakemake(work, *bad, check=False)
    assert proc.returncode != 0
    assert "sha256 mismatch" in (work / "logs/fetch/web2/reddit.csv.log").read_text()
    assert not (work / "resources/dumps/web2/reddit.csv").exists()


def test_bad_config_key_is_named_without_traceback(tmp_path):
    args = write_config(tmp_path, dumps=TWO_DUMPS, vocabulary_sise=10)
    proc = run_snakemake(tmp_path, *args, "-n", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "vocabulary_sise" in out and "Traceback" not in out


def test_missing_dump_file_is_named(tmp_path):
    args = write_config(tmp_path, dumps={"x": {"path": "no/such.csv"}})
    proc = run_snakemake(tmp_path, *args, "-n", check=False)
    assert proc.returncode != 0
    assert "dumps.x.path: no such file: no/such.csv" in proc.stdout + proc.stderr


def test_bad_dump_fails_its_job_with_one_line(tmp_path):
    (tmp_path / "bad.ndjson").write_bytes(b"not json\n" * 5)
    args = write_config(tmp_path, dumps={"bad": {"path": "bad.ndjson"}})
    proc = run_snakemake(tmp_path, *args, check=False)
    assert proc.returncode != 0
    log = (tmp_path / "logs/tokenize/bad.log").read_text()
    assert "error: bad.ndjson: 5 of 5 records are bad" in log
    assert "Traceback" not in log
    assert not (tmp_path / "results/tokens/bad.parquet").exists()


def test_a_sharded_dump_gives_exactly_the_unsharded_rows_vocabulary_and_stats(tmp_path):
    path = "resources/synthetic/big.ndjson.zst"  # 2,500 records: blocks of 1,024 in three shards
    dumps = {"whole": {"path": path, "shards": 1}, "sharded": {"path": path, "shards": 3}}
    args = write_config(tmp_path, dumps=dumps, synthetic={"comments": 2500}, vocabulary_size=500)
    jobs = planned_jobs(tmp_path, *args)
    assert jobs["tokenize"] == 1 and jobs["tokenize_shard"] == 3 and jobs["merge_shards"] == 1
    run_snakemake(tmp_path, *args)
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
