"""A user's mistake with `rnnlm` is one line on stderr and exit code 2; a bug says so."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rnnlm.cli import main


def one_line_error(proc, expected: str):
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    (d / "binary.txt").write_bytes(b"\xff\xfe\x00bad")
    (d / "folder").mkdir()
    vocab = pd.DataFrame(
        {"id": range(4), "token": ["SENTENCE_START", "SENTENCE_END", "UNKNOWN_TOKEN", "hi"], "count": [1, 1, 0, 1]}
    )
    vocab.to_parquet(d / "vocab.parquet")
    np.savez(d / "no-meta.npz", **{"param.V": np.zeros(3)})
    np.savez(d / "bad-meta.npz", **{"param.V": np.zeros(3), "meta": np.array(json.dumps({"spec": "x"}))})
    np.savez(d / "list-meta.npz", **{"meta": np.array("[1, 2]")})
    pq.write_table(pa.table({"ids": pa.array([[0, 3, 9, 1]], pa.list_(pa.int32()))}), d / "encoded.parquet")
    return d


@pytest.mark.parametrize(
    "args, stdin, expected",
    [
        (["score", ""], "", "nothing to score: every input line is empty"),
        (["score"], "", "nothing to score: every input line is empty"),
        (["score", "--file", "missing.txt"], "", "missing.txt: no such file"),
        (["score", "--file", "folder"], "", "folder: not a regular file"),
        (["score", "--file", "binary.txt"], "", "binary.txt: not UTF-8 text (byte 0"),
        (["score", "--model", "no-meta.npz", "--vocab", "vocab.parquet", "hi"], "", "no-meta.npz: not a trained model"),
        (
            ["score", "--model", "bad-meta.npz", "--vocab", "vocab.parquet", "hi"],
            "",
            "bad-meta.npz: not a trained model (its meta lacks a model spec",
        ),
        (
            ["score", "--model", "list-meta.npz", "--vocab", "vocab.parquet", "hi"],
            "",
            "list-meta.npz: not a trained model",
        ),
        (["score", "--model", "folder.npz", "hi"], "", "folder.npz: no such model"),
        (["generate", "-n", "-1"], "", "argument -n: -1 is not a positive integer"),
        (["generate", "--temperature", "nan"], "", "argument --temperature: nan is not a finite number > 0"),
        (
            [
                "generate",
                "--min-length",
                "9",
                "--max-length",
                "3",
                "--model",
                "bad-meta.npz",
                "--vocab",
                "vocab.parquet",
            ],
            "",
            "bad-meta.npz: not a trained model",
        ),
        (
            ["show", "encoded.parquet", "--vocab", "vocab.parquet"],
            "",
            "encoded.parquet: id 9 is outside vocab.parquet (4 entries): not the vocabulary this file was encoded with",
        ),
        (["show", "missing.parquet"], "", "missing.parquet: no such file"),
        (["show", "binary.txt"], "", "binary.txt: cannot read it as Parquet"),
        (["corpus", "x", "out.csv", "--comments", "0"], "", "argument --comments: 0 is not a positive integer"),
        (["corpus", "x", "out.txt"], "", "out.txt: the output must end in .csv or .ndjson.zst"),
        (["no-such-command"], "", "argument command: invalid choice: 'no-such-command'"),
    ],
)
def test_a_users_mistake_is_one_line_and_exit_2(rnnlm_cli, files, args, stdin, expected):
    one_line_error(rnnlm_cli(*args, cwd=files, stdin=stdin), expected)
    assert not (files / "out.txt").exists()


def test_a_bug_is_named_as_one_with_its_traceback_in_a_file(monkeypatch, capsys):
    def broken(args):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("rnnlm.cli.cmd_tokenize", broken)  # build_parser binds it when main runs
    assert main(["tokenize", "x"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("rnnlm: internal error (ZeroDivisionError: division by zero); this is a bug.")
    crash = Path(err.split("The traceback is in ")[1].split(" ")[0])
    assert "Traceback" in crash.read_text() and "ZeroDivisionError" in crash.read_text()
    crash.unlink()
    assert main(["--debug", "tokenize", "x"]) == 1  # --debug: the traceback itself, on stderr
    assert "Traceback" in capsys.readouterr().err
