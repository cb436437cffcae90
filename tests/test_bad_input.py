"""Every kind of bad input is a one-line error naming the file, or a counted skip."""

import bz2
import json
import lzma

import pytest
from helpers import ndjson, token_rows, write_csv, write_zst

from rnnlm import RnnlmError
from rnnlm.data import sources
from rnnlm.data.readers import Comment, Skip, read_dump
from rnnlm.data.tokenize import tokenize_dump


def records(path, **kw):
    source, recs = read_dump(path, kw.pop("fmt", "auto"), **kw)
    try:
        return list(recs)
    finally:
        source.close()


def run(path, tmp_path, **kw):
    out, stats = tmp_path / "out.parquet", tmp_path / "stats.json"
    result = tokenize_dump(str(path), str(out), str(stats), dump="d", **kw)
    assert json.loads(stats.read_text()) == result
    return result, out


GOOD = [f"Comment number {i} is fine. It has two sentences." for i in range(200)]


def test_malformed_csv_rows_are_counted(tmp_path):
    path = tmp_path / "d.csv"
    text = 'body\n"ok one."\n"bad "quote" here."\n"ok two."\n"a","b"\n'
    path.write_text(text)
    recs = records(path)
    assert [type(r).__name__ for r in recs] == ["Comment", "Skip", "Comment", "Skip"]
    assert recs[1] == Skip(3, "bad_csv_row", recs[1].detail, 1)
    assert recs[3].reason == "bad_csv_row" and recs[3].line == 5
    assert [r.body for r in recs if isinstance(r, Comment)] == ["ok one.", "ok two."]
    assert recs[2].comment_id == "d.csv:2"  # rows without an id column are named by position


def test_unterminated_quote_at_end_is_a_counted_bad_row_spanning_its_lines(tmp_path):
    path = write_csv(tmp_path / "d.csv", GOOD)
    path.write_text(path.read_text() + '"never closed\nline two\nline three\n')
    result, _ = run(path, tmp_path, max_bad_fraction=0.01)
    assert result["skipped"] == {"bad_csv_row": 1}
    assert result["bad_lines"] == 3
    assert result["comments_kept"] == 200


def test_csv_without_body_column_is_an_error(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("text,score\nhello,1\n")
    with pytest.raises(RnnlmError, match=r"d\.csv:1: the CSV header has no 'body' column \(found: text, score\)"):
        records(path)


def test_invalid_json_lines_are_counted_with_line_numbers(tmp_path):
    data = ndjson(GOOD[:3]) + b'{"body": "broken\n' + b"[1, 2]\n" + ndjson(GOOD[:1])
    path = tmp_path / "RC.ndjson"
    path.write_bytes(data)
    recs = records(path)
    skips = [r for r in recs if isinstance(r, Skip)]
    assert [(s.line, s.reason) for s in skips] == [(4, "invalid_json"), (5, "not_a_comment")]
    assert sum(isinstance(r, Comment) for r in recs) == 4


@pytest.mark.parametrize("fmt", ["csv", "pushshift"])
def test_invalid_utf8_is_counted(tmp_path, fmt):
    if fmt == "csv":
        path = tmp_path / "d.csv"
        path.write_bytes(b'body\n"fine."\n"bad \xff\xfe byte."\n"also fine."\n')
        bad_line = 3
    else:
        path = tmp_path / "d.ndjson"
        path.write_bytes(ndjson(["fine."]) + b'{"body": "bad \xff byte"}\n' + ndjson(["also fine."]))
        bad_line = 2
    recs = records(path)
    assert [(r.line, r.reason) for r in recs if isinstance(r, Skip)] == [(bad_line, "invalid_utf8")]
    assert [r.body for r in recs if isinstance(r, Comment)] == ["fine.", "also fine."]


def test_chunk_edges_inside_lines_and_utf8_characters(tmp_path, monkeypatch):
    bodies = [f"caf\u00e9 \u2014 na\u00efve \U0001f600 number {i}." for i in range(50)]
    path = write_zst(tmp_path / "d.zst", ndjson(bodies))
    monkeypatch.setattr(sources, "CHUNK", 7)  # every multi-byte character is cut somewhere
    assert [r.body for r in records(path)] == bodies


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


def test_empty_dump_is_an_error(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(RnnlmError, match=r"empty\.csv: the dump is empty"):
        run(path, tmp_path)
    write_csv(path, [])
    with pytest.raises(RnnlmError, match=r"empty\.csv: no comments in the dump"):
        run(path, tmp_path)


def test_dump_with_no_usable_comment_is_an_error(tmp_path):
    path = write_csv(tmp_path / "d.csv", ["[deleted]", "[removed]", "   "])
    with pytest.raises(RnnlmError, match=r"no usable comment among 3 records .*'deleted': 1.*'empty': 1.*'removed': 1"):
        run(path, tmp_path)


def test_huge_comment_is_skipped_in_bounded_memory(tmp_path):
    huge = "word " * 1_000_000  # 5 MB in one line
    path = tmp_path / "d.ndjson"
    path.write_bytes(ndjson(GOOD[:150]) + ndjson([huge]) + ndjson(GOOD[:149]))
    result, out = run(path, tmp_path, max_bad_fraction=0.01)
    assert result["skipped"] == {"too_long": 1}
    assert result["comments_kept"] == 299
    assert result["bad_examples"][0].startswith(f"{path}:151: too_long")
    csv_path = write_csv(tmp_path / "d.csv", GOOD[:150] + [huge] + GOOD[:149])
    result, _ = run(csv_path, tmp_path, max_bad_fraction=0.01)
    assert result["skipped"] == {"too_long": 1} and result["comments_kept"] == 299


def test_bad_fraction_above_threshold_fails_with_a_message(tmp_path):
    path = tmp_path / "d.ndjson"
    path.write_bytes(ndjson(GOOD[:97]) + b"not json\n" * 3)
    message = r"3 of 100 records are bad \(3\.00% > max_bad_fraction 1%\).*d\.ndjson:98: invalid_json"
    with pytest.raises(RnnlmError, match=message):
        run(path, tmp_path, max_bad_fraction=0.01)
    assert not (tmp_path / "out.parquet").exists() and not (tmp_path / "stats.json").exists()
    result, _ = run(path, tmp_path, max_bad_fraction=0.05)
    assert result["bad_fraction"] == pytest.approx(0.03)


def test_unknown_format_and_missing_file(tmp_path):
    with pytest.raises(RnnlmError, match=r"cannot tell the format from the name"):
        records(tmp_path / "dump.txt")
    with pytest.raises(RnnlmError, match=r"nope\.csv: cannot open: No such file or directory"):
        records(tmp_path / "nope.csv")


def test_stats_count_everything(tmp_path):
    bodies = GOOD[:10] + ["[deleted]", "[removed]", "[deleted]"]
    result, out = run(write_csv(tmp_path / "d.csv", bodies), tmp_path, threads=2)
    assert result["comments_read"] == 13
    assert result["comments_kept"] == 10
    assert result["skipped"] == {"deleted": 2, "removed": 1}
    assert result["sentences"] == 20
    # "comment number i is fine ." + "it has two sentences ."
    assert result["tokens"] == sum(len(t) for t in token_rows(out)) == 10 * (6 + 5)


@pytest.mark.parametrize("long_line", ["x" * 5000 + '"', '"' + "x" * 5000])
def test_over_long_csv_line_does_not_swallow_the_next_rows(tmp_path, long_line):
    # the long line closes (or opens) a quoted field: its quote must still count
    path = tmp_path / "d.csv"
    if long_line.endswith('"'):
        path.write_text(f'body\n"short\n{long_line}\n"hello."\n"world."\n')
    else:
        path.write_text(f'body\n{long_line}\nstill inside"\n"hello."\n"world."\n')
    recs = records(path, max_chars=100)
    assert [r.body for r in recs if isinstance(r, Comment)] == ["hello.", "world."]
    assert len([r for r in recs if isinstance(r, Skip)]) == 1
