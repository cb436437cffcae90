"""Files that are not usable dumps are one line naming the file; full disks and killed writes
leave nothing half-written; a rule's log is never empty, and a sharded run equals a whole one."""

import bz2
import lzma
import os
import resource
import signal
import subprocess
import sys
from types import SimpleNamespace

import pytest
import yaml
from helpers import ndjson, token_rows, write_csv, write_zst

from rnnlm import RnnlmError
from rnnlm.atomic import write_text
from rnnlm.data.readers import read_dump

GOOD = [f"Comment number {i} is fine. It has two sentences." for i in range(300)]


def records(path, **kw):
    source, recs = read_dump(path, kw.pop("fmt", "auto"), **kw)
    try:
        return list(recs)
    finally:
        source.close()


def test_csv_without_body_column_is_an_error(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("text,score\nhello,1\n")
    with pytest.raises(RnnlmError, match=r"d\.csv:1: the CSV header has no 'body' column \(found: text, score\)"):
        records(path)


def test_truncated_zst_is_an_error_naming_file_and_offset(tmp_path):
    full = write_zst(tmp_path / "full.zst", ndjson(GOOD * 20), level=1).read_bytes()
    path = tmp_path / "RC_cut.zst"
    path.write_bytes(full[: len(full) // 2])
    message = r"RC_cut\.zst: truncated or corrupt zst data near compressed byte [\d,]+ of [\d,]+"
    with pytest.raises(RnnlmError, match=message):
        records(path)


@pytest.mark.parametrize("ext, compress", [("bz2", bz2.compress), ("xz", lzma.compress)])
def test_bz2_and_xz_dumps_and_their_truncation(tmp_path, ext, compress):
    data = compress(ndjson(GOOD))
    path = tmp_path / f"RC.{ext}"
    path.write_bytes(data)
    assert [r.body for r in records(path)] == GOOD
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(RnnlmError, match=f"truncated or corrupt {ext} data"):
        records(path)


def test_empty_dump_is_an_error(tmp_path, tokenize):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(RnnlmError, match=r"empty\.csv: the dump is empty"):
        tokenize(path, tmp_path)
    write_csv(path, [])
    with pytest.raises(RnnlmError, match=r"empty\.csv: no comments in the dump"):
        tokenize(path, tmp_path)


def test_dump_with_no_usable_comment_is_an_error(tmp_path, tokenize):
    path = write_csv(tmp_path / "d.csv", ["[deleted]", "[removed]", "   "])
    with pytest.raises(RnnlmError, match=r"no usable comment among 3 records .*'deleted': 1.*'empty': 1.*'removed': 1"):
        tokenize(path, tmp_path)


def test_unknown_format_and_missing_file(tmp_path):
    with pytest.raises(RnnlmError, match=r"cannot tell the format from the name"):
        records(tmp_path / "dump.dat")
    with pytest.raises(RnnlmError, match=r"nope\.csv: cannot open: No such file or directory"):
        records(tmp_path / "nope.csv")


def test_non_utf8_csv_header_is_one_error(tmp_path, tokenize):
    path = tmp_path / "d.csv"
    path.write_bytes(b'b\xffdy\n"hello."\n')
    with pytest.raises(RnnlmError, match=r"d\.csv:1: the CSV header is not UTF-8 text"):
        tokenize(path, tmp_path)


def test_a_fifo_is_refused_not_waited_on(tmp_path, tokenize, workflow):
    fifo = tmp_path / "RC_fifo.zst"
    os.mkfifo(fifo)
    with pytest.raises(RnnlmError, match=r"RC_fifo\.zst: not a regular file"):
        tokenize(fifo, tmp_path)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({"dumps": {"f": {"path": str(fifo)}}}))
    proc = workflow.run("-n", "--configfile", "config.yaml", check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == f"rnnlm: config: dumps.f.path: not a regular file: {fifo}"


def test_braces_in_a_dump_path_are_refused_before_snakemake_reads_them_as_wildcards(tmp_path, workflow):
    (tmp_path / "a{dump}.csv").write_text("body\nhi.\n")
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({"dumps": {"x": {"path": "a{dump}.csv"}}}))
    proc = workflow.run("-n", "--configfile", "config.yaml", check=False)
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


def test_tokens_survive_a_sharded_run_identically(tmp_path, tokenize):
    """(the shard path in miniature; the pipeline test compares whole runs)"""
    path = tmp_path / "RC_s.ndjson"
    path.write_bytes(ndjson(GOOD * 10) + b"not json\n" + ndjson(GOOD[:5]))
    whole, out = tokenize(path, tmp_path, max_bad_fraction=0.01)
    rows = token_rows(out)
    parts = [tokenize(path, tmp_path, name=f"s{shard}", shard=shard, shards=3) for shard in range(3)]
    assert sum(stats["comments_read"] for stats, _ in parts) == whole["comments_read"] == 3006
    assert sum(stats["skipped"].get("invalid_json", 0) for stats, _ in parts) == 1
    assert sorted(row for _, out in parts for row in token_rows(out)) == sorted(rows)
    assert [stats["shard"] for stats, _ in parts] == [0, 1, 2]


def test_plain_text_is_one_comment_per_line_or_per_paragraph(tmp_path, tokenize):
    text = "First comment. Two sentences.\n\nSecond one\nstill the second paragraph.\n\n\nThird.\n"
    (tmp_path / "mine.txt").write_text(text)
    by_line = [(r.line, r.body) for r in records(tmp_path / "mine.txt")]
    assert by_line == [
        (1, "First comment. Two sentences."),
        (3, "Second one"),
        (4, "still the second paragraph."),
        (7, "Third."),
    ]
    paragraphs = [(r.line, r.body) for r in records(tmp_path / "mine.txt", fmt="paragraphs")]
    assert paragraphs == [
        (1, "First comment. Two sentences."),
        (3, "Second one\nstill the second paragraph."),
        (7, "Third."),
    ]
    (tmp_path / "long.txt").write_text("short.\n\n" + "word " * 5000 + "\nmore\n\nend.\n")
    stats, out = tokenize(
        tmp_path / "long.txt", tmp_path, fmt="paragraphs", max_comment_chars=1000, max_bad_fraction=0.5
    )
    assert stats["comments_kept"] == 2 and stats["skipped"] == {"too_long": 1}
    assert token_rows(out) == [["short", "."], ["end", "."]]


@pytest.mark.parametrize("header", ["body,score,body", "Body,body"])
def test_a_csv_naming_body_twice_is_refused(tmp_path, header):
    path = tmp_path / "d.csv"
    path.write_text(header + "\n" + ",".join(["x."] * len(header.split(","))) + "\n")
    with pytest.raises(RnnlmError, match=r"d\.csv:1: the CSV header names the column 'body' twice"):
        records(path)


def test_gzip_is_read_as_gz_and_named_when_the_name_says_otherwise(tmp_path):
    import gzip

    data = gzip.compress(ndjson(GOOD[:20]))
    (tmp_path / "RC.ndjson.gz").write_bytes(data)
    assert [r.body for r in records(tmp_path / "RC.ndjson.gz")] == GOOD[:20]
    for name, said in (("RC.zst", "named as zst data"), ("d.csv", "named as uncompressed")):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(RnnlmError, match=f"the file holds gz data but is {said}: rename it to end in .gz"):
            records(tmp_path / name)


def test_a_symlink_loop_and_a_file_named_twice_are_refused_before_any_job(tmp_path, workflow):
    os.symlink("loop.csv", tmp_path / "loop.csv")
    proc = workflow.run("-n", *workflow.configure({"dumps": {"l": {"path": "loop.csv"}}}), check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        "rnnlm: config: dumps.l.path: loop.csv is a symbolic link to nothing (or a loop)"
    )
    write_csv(tmp_path / "d.csv", GOOD[:5])
    twice = {"dumps": {"a": {"path": "d.csv"}, "b": {"path": str(tmp_path / "d.csv")}}}
    proc = workflow.run("-n", *workflow.configure(twice), check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        f"rnnlm: config: dumps.a and dumps.b name the same file ({tmp_path / 'd.csv'}): its comments would count twice"
    )
