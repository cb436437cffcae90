"""The report's pages and figures, from results shaped as the pipeline writes them."""

from html.parser import HTMLParser

import pytest

from rnnlm.evaluation import pages
from rnnlm.evaluation.figures import best_validation, learning_rate_cuts, plot_comparison, plot_history


def entry(nats, tokens=1000):
    import math

    return {"nats_per_token": nats, "perplexity": math.exp(nats), "tokens": tokens}


def eval_result(model="gru", nats=3.6):
    split = {
        model: entry(nats),
        f"{model}+kneser_ney_3": entry(nats - 0.05),
        "uniform": entry(8.99),
        "unigram": entry(6.1),
        "kneser_ney_3": entry(4.2),
        "true_source": entry(3.5),
    }
    known = {k: entry(v["nats_per_token"] - 0.1, 950) for k, v in split.items() if k != "true_source"}
    return {
        "model": model,
        "cell": "gru",
        "trained_steps": 4200,
        "trained_seconds": 180.0,
        "interpolation": {"with": "kneser_ney_3", "model_weight": 0.81, "tuned_on": "valid"},
        "oov_rate": {"train": 0.01, "valid": 0.02, "test": 0.03},
        "without_oov": {"valid": known, "test": known},
        "notes": [],
        "valid": split,
        "test": split,
    }


class Tables(HTMLParser):
    """The cells of every table in a page, row by row, as a browser would read them."""

    def __init__(self, html):
        super().__init__()
        self.rows, self.row, self.cell = [], None, None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.row.append(self.cell)
            self.cell = None
        elif tag == "tr":
            self.rows.append(self.row)

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def test_eval_page_is_a_table_of_every_figure_best_first():
    html = pages.eval_page(eval_result())
    rows = Tables(html).rows
    assert rows[0] == ["model", "nats/token", "perplexity", "perplexity without OOV", "tokens"]
    valid = rows[1:7]
    assert [r[0] for r in valid] == ["true_source", "gru+kneser_ney_3", "gru", "kneser_ney_3", "unigram", "uniform"]
    assert valid[2] == ["gru", "3.6000", "36.60", "33.12", "1,000"]
    assert valid[0][3] == "–"  # the true source has no without-OOV figure
    assert "model weight 0.810 (tuned on valid)" in html
    assert "<tr class=model><td>gru</td><td class=n>3.6000</td>" in html  # its rows stand out; figures right
    assert "<td class=n>–</td>" in html and '<td class="n">1,000</td>' in html


def test_summary_page_compares_every_model_and_escapes_names():
    html = pages.summary_page([eval_result("gru", 3.6), eval_result("<rnn>", 4.0)])
    names = [r[0] for r in Tables(html).rows if r[0] != "model"]
    assert names[:3] == ["true_source", "gru+kneser_ney_3", "gru"]
    assert "<rnn>" in names and "&lt;rnn&gt;" in html and "<rnn>" not in html
    assert "test 3.00%" in html


def test_samples_gradcheck_and_tokenization_pages(tmp_path):
    path = tmp_path / "samples.txt"
    path.write_text("a <b> c .\nd e .\n")
    samples = pages.samples_page("gru", str(path))
    assert "<li>a &lt;b&gt; c .</li>" in samples and "2 sentences</p>" in samples
    path.write_text("".join(f"s{i} .\n" for i in range(1000)))  # a long generate run: the page shows the start
    many = pages.samples_page("gru", str(path))
    assert "1,000 sentences; the first 200 shown" in many and many.count("<li>") == 200 and "<li>s199 .</li>" in many
    gate = {
        "model": "gru",
        "cell": "gru",
        "output": "full",
        "dtype": "float64",
        "tolerance": 1e-4,
        "sizes": {"vocab": 13, "hidden": 7},
        "finite_differences": {
            "E": {"entries": 91, "checked": 91, "max_relative_error": 5.7e-10},
            "W0": {"entries": 147, "checked": 100, "max_relative_error": 2e-4},
        },
    }
    html = pages.gradcheck_page(gate)
    assert "Gradient check of gru: FAILED" in html and "worst relative error 2.00e-04" in html
    assert Tables(html).rows[1:] == [["E", "91", "91", "5.70e-10", "ok"], ["W0", "147", "100", "2.00e-04", "over"]]
    gate["finite_differences"]["W0"]["max_relative_error"] = 1e-9
    gate["numpy_reference"] = {"bptt_truncate=4": {"loss": {"max_relative_error": 0.0}}}
    html = pages.gradcheck_page(gate)
    assert "Gradient check of gru: passed" in html and "against numpy reference, bptt_truncate=4" in html
    assert ["loss", "–", "–", "0.00e+00", "ok"] in Tables(html).rows
    stats = {
        "dump": "2015-06",
        "comments_read": 1200,
        "comments_kept": 1100,
        "bad_records": 3,
        "sentences": 4000,
        "tokens": 50000,
        "seconds": 1.5,
        "skipped": {"deleted": 97, "bad JSON": 3},
        "cleaned": {"markdown": 40},
        "bad_examples": ["line 7: not JSON"],
        "bad_example_lines": [7],
    }
    rows = Tables(pages.tokenization_page([stats])).rows
    assert rows[1] == ["2015-06", "1,200", "1,100", "3", "4,000", "50,000", "1.5"]
    assert ["skipped: deleted", "97"] in rows and ["cleaned: markdown", "40"] in rows
    assert ["7", "line 7: not JSON"] in rows


def history_row(step, lr, train, valid):
    return {"step": step, "epoch": 0, "learning_rate": lr, "train_loss": train, "valid_loss": valid}


def test_loss_plot_marks_cuts_the_kept_parameters_and_the_stop(tmp_path):
    history = [
        history_row(400, 0.002, 4.0, 3.9),
        history_row(800, 0.002, 3.8, 3.7),
        history_row(1200, 0.001, 3.7, 3.75),  # worse: cut
        history_row(1600, 0.0005, 3.6, 3.76),  # worse: cut
    ]
    assert learning_rate_cuts(history) == [1200, 1600]
    assert best_validation(history)["step"] == 800
    assert best_validation([history_row(5, 0.1, 4.0, None)]) is None
    out = tmp_path / "loss.png"
    plot_history(str(out), history, "gru", {"KN-3": 4.2}, {"train": {"schedule": "fast"}, "stopped": "early stop"})
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_comparison_plot_draws_every_entry(tmp_path, caplog):
    caplog.set_level("INFO", logger="rnnlm")
    out = tmp_path / "comparison.png"
    plot_comparison(str(out), [eval_result("gru"), eval_result("rnn", 4.1)])
    assert out.read_bytes()[:4] == b"\x89PNG"
    assert "comparison: 7 entries on test" in caplog.text  # 2 models, 2 interpolations, 3 baselines
    no_test = eval_result("gru") | {"test": None}
    plot_comparison(str(out), [no_test])
    assert "comparison: 5 entries on valid" in caplog.text  # the test split is empty: valid
    plot_comparison(str(out), [no_test | {"valid": None}])
    assert "comparison: no figures (empty valid and test splits)" in caplog.text
    assert out.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("schedule", ["fast", "tutorial"])
def test_history_points_are_evenly_spaced(schedule):
    """Fast: a validation every eval_every steps counted from the last one, so an epoch's end
    never puts two validations a few steps apart. Tutorial: a training-loss point as often."""
    from rnnlm.training.schedule import Schedule, train_settings
    from rnnlm.training.state import TrainState

    s = Schedule(train_settings({"train": {"schedule": schedule, "eval_every": 400}}))
    state, points = TrainState(0.1), []
    for step in range(1, 2001):
        state.count_step(1.0, 1)
        epoch_end = schedule == "fast" and step == 1184  # the fast schedule validates there
        if epoch_end or s.validates_after_step(state):
            state.last_eval_step = step
            points.append(step)
        elif s.records_after_step(state):
            points.append(step)
    expected = [400, 800, 1184, 1584, 1984] if schedule == "fast" else [400, 800, 1200, 1600, 2000]
    assert points == expected
