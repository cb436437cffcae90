"""Hostile input, class by class: no record kills a stage, files that are not dumps and full
disks are one line, leftovers of killed jobs go away, and a rule log is never empty."""

import json
import os
import resource
import signal
import subprocess
import sys
from types import SimpleNamespace

import pyarrow.parquet as pq
import pytest
import yaml
from conftest import run_snakemake
from helpers import ndjson, token_rows

from rnnlm import RnnlmError
from rnnlm.atomic import write_text
from rnnlm.data.tokenize import tokenize_dump

GOOD = [f"Comment number {i} is fine. It has two sentences." for i in range(300)]


def tokenize(path, tmp_path, **kw):
    out, stats = tmp_path / "out.parquet", tmp_path / "stats.json"
    result = tokenize_dump(str(path), str(out), str(stats), dump="d", **kw)
    return result, pq.read_table(out)


def test_broken_records_are_repaired_or_counted_and_their_neighbours_kept(tmp_path):
    hostile = [
        '{"id": "s1", "subreddit": "x\\ud800", "created_utc": 1, "body": "half an emoji \\ud83d here."}',
        '{"id": "\\udfff", "created_utc": "1e400", "body": "id with a lone surrogate."}',
        '{"id": "t1", "created_utc": 1e400, "body": "an infinite time."}',
        '{"id": "t2", "created_utc": 99999999999999999999999999, "body": "a huge time."}',
        '{"id": "t3", "created_utc": "yesterday", "body": "a word for a time."}',
        '{"id": "t4", "created_utc": true, "body": "nul\\u0000 inside."}',
        '{"body": ' + "[" * 50_000 + "]" * 50_000 + "}",
    ]
    path = tmp_path / "RC_hostile.ndjson"
    path.write_bytes(ndjson(GOOD[:150]) + "\n".join(hostile).encode() + b"\n" + ndjson(GOOD[150:]))
    result, table = tokenize(path, tmp_path, max_bad_fraction=0.01)
    assert result["comments_read"] == 307 and result["comments_kept"] == 306
    assert result["skipped"] == {"invalid_json": 1}  # nested 50,000 deep: counted, not a RecursionError
    assert result["bad_examples"] == [f"{path}:157: invalid_json: nested too deeply"]
    assert result["cleaned"] == {"nul": 1, "surrogates": 2, "timestamp": 5}
    rows = table.to_pylist()
    by_id = {r["comment_id"]: r for r in rows}
    assert by_id["s1"]["subreddit"] == "x\ufffd" and by_id["s1"]["tokens"][:3] == ["half", "an", "emoji"]
    assert "\ufffd" in by_id
    assert [by_id[c]["created_utc"] for c in ("s1", "t1", "t2", "t3", "t4")] == [1, None, None, None, None]
    assert by_id["t4"]["tokens"] == ["nul", "inside", "."]
    good = [r for r in rows if r["comment_id"].startswith("c")]  # the good ones around them: all there
    assert len(good) == 2 * 300 and {r["comment_id"] for r in good} == {f"c{i}" for i in range(150)}


def test_non_utf8_csv_header_is_one_error(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(b'b\xffdy\n"hello."\n')
    with pytest.raises(RnnlmError, match=r"d\.csv:1: the CSV header is not UTF-8 text"):
        tokenize(path, tmp_path)


def test_a_fifo_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "RC_fifo.zst"
    os.mkfifo(fifo)
    with pytest.raises(RnnlmError, match=r"RC_fifo\.zst: not a regular file"):
        tokenize(fifo, tmp_path)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({"dumps": {"f": {"path": str(fifo)}}}))
    proc = run_snakemake(tmp_path, "-n", "--configfile", "config.yaml", check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == f"rnnlm: config: dumps.f.path: not a regular file: {fifo}"


def test_braces_in_a_dump_path_are_refused_before_snakemake_reads_them_as_wildcards(tmp_path):
    (tmp_path / "a{dump}.csv").write_text("body\nhi.\n")
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({"dumps": {"x": {"path": "a{dump}.csv"}}}))
    proc = run_snakemake(tmp_path, "-n", "--configfile", "config.yaml", check=False)
    assert proc.returncode == 2
    assert "rnnlm: config: dumps.x.path: braces are not allowed in a path (a{dump}.csv)" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


def test_a_full_disk_is_one_line_naming_the_output(tmp_path):
    """A file-size limit makes writes fail like a full disk does (EFBIG instead of ENOSPC)."""
    out = tmp_path / "big.txt"
    code = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
        "from rnnlm.cli import main\n"
        "from rnnlm.atomic import write_text\n"
        "from rnnlm.errors import RnnlmError\n"
        f"try:\n    write_text({str(out)!r}, 'x' * 100000)\n"
        "except RnnlmError as e:\n    print(e)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.strip() == f"{out}: cannot write it: File too large", proc.stderr
    assert not out.exists() and not list(tmp_path.glob(".big.txt.tmp-*"))
    assert resource.RLIMIT_FSIZE and signal.SIGXFSZ  # (the limit was set in the child only)


def test_leftovers_of_killed_writes_are_removed_by_the_next_write(tmp_path):
    stale = [tmp_path / ".out.json.tmp-abc123", tmp_path / ".out.json.tmp-zzz"]
    for s in stale:
        s.write_text("half")
    other = tmp_path / ".other.json.tmp-keep"
    other.write_text("not ours")
    write_text(tmp_path / "out.json", "{}")
    assert not any(s.exists() for s in stale) and other.exists()
    assert (tmp_path / "out.json").read_text() == "{}"


def test_an_unexpected_error_in_a_rule_puts_its_traceback_in_the_rule_log(tmp_path):
    from rnnlm.workflow import run

    log = tmp_path / "rule.log"

    def buggy(_):
        return {}["missing"]

    with pytest.raises(SystemExit):
        run(SimpleNamespace(log=[str(log)], rule="demo"), buggy)
    text = log.read_text()
    assert "internal error in rule demo" in text and "Traceback" in text and "KeyError: 'missing'" in text

    def mistake(_):
        raise RnnlmError("a user's mistake")

    with pytest.raises(SystemExit):
        run(SimpleNamespace(log=[str(log)], rule="demo"), mistake)
    assert log.read_text().strip().endswith("error: a user's mistake") and "Traceback" not in log.read_text()


def test_tokens_survive_a_sharded_run_identically(tmp_path):
    """(the shard path in miniature; the pipeline test compares whole runs)"""
    path = tmp_path / "RC_s.ndjson"
    path.write_bytes(ndjson(GOOD * 10) + b"not json\n" + ndjson(GOOD[:5]))
    whole, _ = tokenize(path, tmp_path, max_bad_fraction=0.01)
    rows = token_rows(tmp_path / "out.parquet")
    parts = []
    for shard in range(3):
        out = tmp_path / f"s{shard}.parquet"
        parts.append(
            tokenize_dump(str(path), str(out), str(tmp_path / f"s{shard}.json"), dump="d", shard=shard, shards=3)
        )
    assert sum(p["comments_read"] for p in parts) == whole["comments_read"] == 3006
    assert sum(p["skipped"].get("invalid_json", 0) for p in parts) == 1
    assert sorted(r for s in range(3) for r in token_rows(tmp_path / f"s{s}.parquet")) == sorted(rows)
    assert json.loads((tmp_path / "s1.json").read_text())["shard"] == 1
