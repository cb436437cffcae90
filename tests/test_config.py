import yaml

from conftest import REPO
from rnnlm.training.train import TRAIN_DEFAULTS


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
