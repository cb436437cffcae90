"""A user's mistake with `rnnlm` is one line on stderr and exit code 2; a bug says so."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import rnnlm
from rnnlm.cli import main
from rnnlm.models.io import save_model


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
        (["score", "--file", "binary.txt"], "", "binary.txt:1: not UTF-8 text (byte 0"),
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


def test_show_reads_every_kind_of_file_the_pipeline_writes(rnnlm_cli, tmp_path):
    save_model(tmp_path / "m.npz", {"V": np.zeros((4, 3))}, {"spec": {"cell": "gru"}, "vocabulary": ["a"] * 20})
    (tmp_path / "eval.json").write_text('{"test": {"gru": {"perplexity": 38.2}}}')
    (tmp_path / "history.csv").write_text("step,valid_loss\n400,4.1\n800,3.8\n1200,3.7\n")
    (tmp_path / "train.tsv").write_text("s\tmax_rss\n378.6\t910.8\n")
    model = rnnlm_cli("show", "m.npz", cwd=tmp_path).stdout.splitlines()
    assert model[0] == "m.npz: model, 1 arrays, 12 numbers" and model[1] == '{"param.V": [4, 3]}'
    assert '"vocabulary": "20 tokens: a a a a a a a a …"' in "\n".join(model)
    assert json.loads(rnnlm_cli("show", "eval.json", cwd=tmp_path).stdout)["test"]["gru"]["perplexity"] == 38.2
    history = rnnlm_cli("show", "history.csv", "-n", "1", cwd=tmp_path).stdout.splitlines()
    assert history == ["history.csv: 3 rows; columns: step, valid_loss", '{"step": "400", "valid_loss": "4.1"}']
    assert rnnlm_cli("show", "train.tsv", cwd=tmp_path).stdout.splitlines()[1] == '{"s": "378.6", "max_rss": "910.8"}'
    version = rnnlm_cli("--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.strip() == f"rnnlm {rnnlm.__version__}"
