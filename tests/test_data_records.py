"""Bad records: each one is repaired, or skipped and counted with its line, and the records
around it are kept; too many bad ones fail the dump with a message."""

import pyarrow.parquet as pq
import pytest
from helpers import ndjson, token_rows, write_csv, write_zst

from rnnlm import RnnlmError
from rnnlm.data import sources
from rnnlm.data.readers import Comment, Skip, read_dump

GOOD = [f"Comment number {i} is fine. It has two sentences." for i in range(300)]


def records(path, **kw):
    source, recs = read_dump(path, kw.pop("fmt", "auto"), **kw)
    try:
        return list(recs)
    finally:
        source.close()


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


def test_unterminated_quote_at_end_is_a_counted_bad_row_spanning_its_lines(tmp_path, tokenize):
    path = write_csv(tmp_path / "d.csv", GOOD)
    path.write_text(path.read_text() + '"never closed\nline two\nline three\n')
    result, _ = tokenize(path, tmp_path, max_bad_fraction=0.01)
    assert result["skipped"] == {"bad_csv_row": 1}
    assert result["bad_lines"] == 3
    assert result["comments_kept"] == 300


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


def test_huge_comment_is_skipped_in_bounded_memory(tmp_path, tokenize):
    huge = "word " * 1_000_000  # 5 MB in one line
    path = tmp_path / "d.ndjson"
    path.write_bytes(ndjson(GOOD[:150]) + ndjson([huge]) + ndjson(GOOD[:149]))
    result, out = tokenize(path, tmp_path, max_bad_fraction=0.01)
    assert result["skipped"] == {"too_long": 1}
    assert result["comments_kept"] == 299
    assert result["bad_examples"][0].startswith(f"{path}:151: too_long")
    csv_path = write_csv(tmp_path / "d.csv", GOOD[:150] + [huge] + GOOD[:149])
    result, _ = tokenize(csv_path, tmp_path, max_bad_fraction=0.01)
    assert result["skipped"] == {"too_long": 1} and result["comments_kept"] == 299


def test_broken_records_are_repaired_or_counted_and_their_neighbours_kept(tmp_path, tokenize):
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
    result, out = tokenize(path, tmp_path, max_bad_fraction=0.01)
    table = pq.read_table(out)
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


def test_stats_count_everything(tmp_path, tokenize):
    bodies = GOOD[:10] + ["[deleted]", "[removed]", "[deleted]"]
    result, out = tokenize(write_csv(tmp_path / "d.csv", bodies), tmp_path, threads=2)
    assert result["comments_read"] == 13
    assert result["comments_kept"] == 10
    assert result["skipped"] == {"deleted": 2, "removed": 1}
    assert result["sentences"] == 20
    # "comment number i is fine ." + "it has two sentences ."
    assert result["tokens"] == sum(len(t) for t in token_rows(out)) == 10 * (6 + 5)


def test_bad_fraction_above_threshold_fails_with_a_message(tmp_path, tokenize):
    path = tmp_path / "d.ndjson"
    path.write_bytes(ndjson(GOOD[:97]) + b"not json\n" * 3)
    message = r"3 of 100 records are bad \(3\.00% > max_bad_fraction 1%\).*d\.ndjson:98: invalid_json"
    with pytest.raises(RnnlmError, match=message):
        tokenize(path, tmp_path, max_bad_fraction=0.01)
    assert not (tmp_path / "out.parquet").exists() and not (tmp_path / "out.stats.json").exists()
    result, _ = tokenize(path, tmp_path, max_bad_fraction=0.05)
    assert result["bad_fraction"] == pytest.approx(0.03)


def test_a_broken_multiline_record_far_over_the_limit_is_one_skip_and_no_fragment(tmp_path, tokenize):
    """200,000 characters over 2,000 lines in one quoted field, twice: the first closed, the
    second closed only by a stray quote far below. Neither leaves a line of itself as a comment."""
    huge = "\n".join(f"line {i} of a pasted log, with words" for i in range(2000))
    head = "".join(f'"{b}"\n' for b in GOOD[:150])
    tail = "".join(f'"{b}"\n' for b in GOOD[150:])
    path = tmp_path / "d.csv"
    path.write_text(f'body\n{head}"{huge}"\n{tail}"{huge}\n' + "".join(f"{b}\n" for b in GOOD[:20]) + '"\n')
    result, out = tokenize(path, tmp_path, max_comment_chars=10_000, max_bad_fraction=0.01)
    assert result["comments_kept"] == 300 and result["skipped"] == {"too_long": 2}
    assert result["bad_examples"][0].startswith(f"{path}:152: too_long")
    assert {tuple(t[:2]) for t in token_rows(out)} == {("comment", "number"), ("it", "has")}


def test_a_5000_digit_integer_or_a_byte_order_mark_costs_no_record(tmp_path, tokenize):
    huge = "9" * 5000
    hostile = [
        f'{{"id": "h1", "created_utc": {huge}, "body": "a time too big for Python."}}',
        f'{{"id": "h2", "score": -{huge}, "body": "a score too big."}}',
    ]
    path = tmp_path / "RC_ints.ndjson"
    path.write_bytes(b"\xef\xbb\xbf" + ndjson(GOOD[:100]) + "\n".join(hostile).encode() + b"\n" + ndjson(GOOD[100:]))
    result, out = tokenize(path, tmp_path)
    assert result["comments_read"] == result["comments_kept"] == 302  # the first record (after a BOM) too
    assert result["skipped"] == {} and result["cleaned"] == {"timestamp": 1}
    rows = {r["comment_id"]: r for r in pq.read_table(out).to_pylist()}
    assert rows["h1"]["created_utc"] is None and rows["h2"]["tokens"] == ["a", "score", "too", "big", "."]
    assert "c0" in rows
