import re

import pytest
import yaml

from conftest import REPO, run_snakemake
from rnnlm.train import TRAIN_DEFAULTS


def test_schema_documents_the_training_defaults_the_code_uses():
    schema = yaml.safe_load((REPO / "schemas/config.schema.yaml").read_text())
    train = schema["properties"]["models"]["additionalProperties"]["properties"]["train"]["properties"]
    assert {k: v["default"] for k, v in train.items()} == TRAIN_DEFAULTS


def test_every_schema_key_is_described_or_typed():
    schema = yaml.safe_load((REPO / "schemas/config.schema.yaml").read_text())

    def walk(node, path):
        for key, sub in (node.get("properties") or {}).items():
            assert "description" in sub or "type" in sub or "enum" in sub, f"{path}.{key}"
            walk(sub, f"{path}.{key}")
        if isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"], f"{path}.*")

    walk(schema, "config")


def test_a_models_threads_and_gpu_keys_set_its_train_jobs_threads_and_resources(tmp_path):
    config = {
        "dumps": {"a": {"path": "resources/synthetic/a.csv"}},
        "models": {
            "gpu": {"cell": "gru", "gpu": True, "gpu_model": "a100"},
            "any": {"cell": "gru", "gpu": "optional", "threads": 1},
            "cpu": {"cell": "rnn"},
        },
    }
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    targets = [f"results/models/{m}/model.npz" for m in config["models"]]
    out = run_snakemake(tmp_path, "-n", *targets, "--configfile", str(tmp_path / "c.yaml")).stdout
    jobs = {}
    for block in out.split("rule train:")[1:]:
        model = re.search(r"wildcards: model=(\w+)", block).group(1)
        resources = dict(re.findall(r"(\w+)=([^,\s]+)", re.search(r"resources: (.*)", block).group(1)))
        threads = re.search(r"threads: (\d+)", block)
        jobs[model] = (int(threads.group(1)) if threads else 1, resources.get("gpu"), resources.get("gpu_model"))
    assert jobs == {"gpu": (2, "1", "a100"), "any": (1, "0", None), "cpu": (2, "0", None)}


@pytest.mark.parametrize("model, error", [
    ({"cell": "gru", "gpu": "yes"}, "'yes' is not one of [True, False, 'optional']"),
    ({"cell": "gru", "gpu_model": "a100"}, "'gpu' is a required property"),
    ({"cell": "gru", "gpu": "optional", "gpu_model": "a100"}, "True was expected"),
    ({"cell": "gru", "gpu": True, "gpu_model": "a 100"}, "does not match"),
])
def test_gpu_keys_are_validated(tmp_path, model, error):
    (tmp_path / "c.yaml").write_text(yaml.safe_dump({"dumps": {"a": {"path": "resources/synthetic/a.csv"}},
                                                     "models": {"m": model}}))
    proc = run_snakemake(tmp_path, "-n", "--configfile", str(tmp_path / "c.yaml"), check=False)
    assert proc.returncode != 0 and error in proc.stderr + proc.stdout
