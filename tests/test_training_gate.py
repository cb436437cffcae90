"""The gradient-check gate passes on the real models and fails on planted wrong gradients."""

import json

import pytest

from rnnlm import RnnlmError
from rnnlm.models import backend
from rnnlm.models.numpy_rnn import RNNNumpy
from rnnlm.models.ops import _recurrence_kernels as kernels
from rnnlm.training.gradcheck import GradientCheckError, gradient_check

SPECS = {
    "rnn": {"cell": "rnn", "bptt_truncate": 4},
    "gru": {"cell": "gru", "layers": 2},
    "lstm": {"cell": "lstm", "layers": 2, "bptt_truncate": 2},
    "regularised": {
        "cell": "lstm",
        "layers": 2,
        "tie_weights": True,
        "train": {"dropout": 0.3, "recurrent_dropout": 0.2, "variational": False},
    },
}


@pytest.mark.parametrize("name", list(SPECS))
def test_gate_passes_and_reports_every_parameter(name):
    result = gradient_check(name, SPECS[name], mode="FAST_COMPILE")
    fd = result["finite_differences"]
    expected = {"rnn": {"U", "V", "W"}}.get(name, {"E", "W0", "U0", "b0", "W1", "U1", "b1", "V", "c"})
    if name == "regularised":  # tied: no V; checked through fixed dropout masks
        expected -= {"V"}
        assert result["dropout"] == {"rate": 0.3, "recurrent": 0.2, "variational": False}
    assert set(fd) == expected
    assert all(r["checked"] == min(r["entries"], 100) and r["max_relative_error"] < 1e-5 for r in fd.values())
    assert result["sizes"]["padding"] > 0
    if name == "rnn":
        ref = result["numpy_reference"]
        assert set(ref) == {"full BPTT", "bptt_truncate=4"}
        assert max(r["max_relative_error"] for rep in ref.values() for r in rep.values()) < 1e-10


def wrong_recurrence_gradient(gate: slice, flip_recurrent: bool = False):
    """The Recurrence Op's backward pass with the sign of one gate's input gradient flipped
    (and optionally of the recurrent matrix's gradient): the forward pass is unchanged."""
    run = kernels.run_backward

    def backward(cell, truncate, R, m, h, aux, gh, h0, c0):
        dxw, dR = run(cell, truncate, R, m, h, aux, gh, h0, c0)
        dxw = dxw.copy()
        dxw[:, :, gate] *= -1
        return dxw, (-dR if flip_recurrent else dR)

    return backward


def test_gate_fails_on_a_sign_flipped_gate_gradient(monkeypatch):
    monkeypatch.setattr(kernels, "run_backward", wrong_recurrence_gradient(slice(0, 7)))  # GRU's update gate (H=7)
    message = r"model 'gru' \(gru\): relative error above 0\.0001 in .*U0 \(finite differences\): "
    with pytest.raises(GradientCheckError, match=message):
        gradient_check("gru", SPECS["gru"], mode="FAST_COMPILE")


def test_gate_fails_on_a_wrong_tanh_gradient_in_the_rnn(monkeypatch):
    monkeypatch.setattr(kernels, "run_backward", wrong_recurrence_gradient(slice(None), flip_recurrent=True))
    with pytest.raises(GradientCheckError, match=r"W \(finite differences\).*W \(numpy reference, full BPTT\)"):
        gradient_check("rnn", SPECS["rnn"], mode="FAST_COMPILE")


def test_gate_fails_when_the_numpy_reference_is_wrong(monkeypatch):
    def bptt_without_tanh_derivative(self, x, y):
        grads = original(self, x, y)
        grads["W"] = grads["W"] * 1.01
        return grads

    original = RNNNumpy.bptt
    monkeypatch.setattr(RNNNumpy, "bptt", bptt_without_tanh_derivative)
    with pytest.raises(GradientCheckError, match=r"W \(numpy reference, full BPTT\)"):
        gradient_check("rnn", SPECS["rnn"], mode="FAST_COMPILE")


def test_c_backend_refuses_to_run_without_blas(monkeypatch):
    assert backend.blas_ldflags() == "-lopenblas"
    monkeypatch.setattr(backend, "blas_ldflags", lambda: "")
    with pytest.raises(RnnlmError, match="needs a BLAS: install libopenblas-dev"):
        backend.mode("CVM")


def test_gate_rule_writes_json_or_fails_without_output(tmp_path, workflow):
    config = {
        "dumps": {"a": {"path": "resources/synthetic/a.csv", "synthetic": True}},
        "models": {"rnn": SPECS["rnn"], "lstm": SPECS["lstm"]},
    }
    (tmp_path / "config.yaml").write_text(json.dumps(config))
    workflow.run("results/gradcheck/rnn.json", "results/gradcheck/lstm.json", "--configfile", "config.yaml")
    report = json.loads((tmp_path / "results/gradcheck/lstm.json").read_text())
    assert report["model"] == "lstm" and report["layers"] == 2
    assert max(r["max_relative_error"] for r in report["finite_differences"].values()) < 1e-4

    config["gradcheck"] = {"tolerance": 1e-30}  # no float64 gradient is that exact: the gate must fail
    (tmp_path / "config.yaml").write_text(json.dumps(config))
    proc = workflow.run("results/gradcheck/rnn.json", "-F", "--configfile", "config.yaml", check=False)
    assert proc.returncode != 0
    log = (tmp_path / "logs/gradcheck/rnn.log").read_text()
    assert (
        "error: gradient check failed for model 'rnn' (rnn): relative error above 1e-30 in U (finite differences)"
    ) in log
    assert not (tmp_path / "results/gradcheck/rnn.json").exists()
