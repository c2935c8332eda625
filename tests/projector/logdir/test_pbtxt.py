"""Text-format parsing: projector_config.pbtxt and the checkpoint state file."""

from __future__ import annotations

import pytest

from projector.logdir import (
    EmbeddingInfo,
    LogdirError,
    ProjectorConfig,
    SpriteInfo,
    format_projector_config,
    parse_checkpoint_state,
    parse_projector_config,
)
from projector.logdir.pbtxt import parse_text_message


def test_full_config_both_forms_comments_and_repeats() -> None:
    text = """
    # written by hand
    model_checkpoint_path: "train/model.ckpt-3"   # trailing comment
    model_checkpoint_dir: 'ckpts'
    embeddings {
      tensor_name: "word_embedding:0"
      metadata_path: "meta.tsv"
      bookmarks_path: "bm.json"
      tensor_shape: 10
      tensor_shape: 0x4
      sprite: { image_path: "sprite.png" single_image_dim: [28, 30] }
    }
    embeddings <
      tensor_path: "t.bytes"; tensor_shape: [3, 2],
    >
    """
    config = parse_projector_config(text)
    assert config.model_checkpoint_path == "train/model.ckpt-3"
    assert config.model_checkpoint_dir == "ckpts"
    first, second = config.embeddings
    assert first.tensor_name == "word_embedding:0"
    assert first.metadata_path == "meta.tsv"
    assert first.bookmarks_path == "bm.json"
    assert first.tensor_shape == [10, 4]
    assert first.sprite == SpriteInfo("sprite.png", [28, 30])
    assert second.tensor_path == "t.bytes"
    assert second.tensor_shape == [3, 2]
    assert second.sprite is None


def test_string_escapes() -> None:
    text = r"""embeddings { tensor_name: "a\"b\\c\n\t\101\x42\u00e9" "!" metadata_path: 'it\'s' }"""
    info = parse_projector_config(text).embeddings[0]
    assert info.tensor_name == 'a"b\\c\n\tABé!'
    assert info.metadata_path == "it's"


def test_octal_utf8_bytes_decode() -> None:
    # protobuf's default MessageToString escapes UTF-8 as octal bytes
    info = parse_projector_config(r'embeddings { tensor_name: "caf\303\251" }').embeddings[0]
    assert info.tensor_name == "café"


def test_unknown_fields_are_skipped() -> None:
    text = """
    future_field: 12
    embeddings {
      tensor_name: "x"
      new_block { deep { value: "y" } other: [1, 2] }
      some_enum: FOO
      [ext.field]: 1
    }
    another { }
    """
    config = parse_projector_config(text)
    assert [e.tensor_name for e in config.embeddings] == ["x"]


def test_empty_config() -> None:
    assert parse_projector_config("") == ProjectorConfig()
    assert parse_projector_config("# nothing\n\n") == ProjectorConfig()


def test_last_scalar_wins() -> None:
    assert parse_projector_config('model_checkpoint_path: "a"\nmodel_checkpoint_path: "b"').model_checkpoint_path == "b"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('embeddings { tensor_name: "x"', "missing '}'"),
        ('embeddings { tensor_name "x" }', "line 1"),
        ('embeddings {\n  tensor_name: "unterminated\n}', "line 2"),
        ("embeddings { tensor_shape: abc }", "whole numbers"),
        ("embeddings { tensor_shape: -3 }", "negative"),
        ('embeddings { sprite: "x" }', "block"),
        ('embeddings: "x"', "block"),
        ("embeddings { tensor_name: { } }", "string"),
        ('embeddings { tensor_name: "\\q" }', "unknown escape"),
        ("}", "field name"),
    ],
)
def test_malformed_config_errors(text: str, fragment: str) -> None:
    with pytest.raises(LogdirError, match=r"cfg\.pbtxt") as info:
        parse_projector_config(text, source="cfg.pbtxt")
    assert fragment in str(info.value)


def test_generic_message_keeps_structure() -> None:
    msg = parse_text_message('a: 1 b { c: "x" c: "y" } a: 2')
    assert msg == {"a": ["1", "2"], "b": [{"c": ["x", "y"]}]}


def test_checkpoint_state() -> None:
    text = (
        'model_checkpoint_path: "model-3"\n'
        'all_model_checkpoint_paths: "model-2"\n'
        'all_model_checkpoint_paths: "model-3"\n'
        "all_model_checkpoint_timestamps: 1795529051.5222287\n"
        "last_preserved_timestamp: 1795529050.4597158\n"
    )
    state = parse_checkpoint_state(text)
    assert state.model_checkpoint_path == "model-3"
    assert state.all_model_checkpoint_paths == ["model-2", "model-3"]


def test_format_round_trip() -> None:
    config = ProjectorConfig(
        model_checkpoint_path="m/ckpt-1",
        embeddings=[
            EmbeddingInfo(
                tensor_name='we"ird\\name\n',
                metadata_path="é/meta.tsv",
                tensor_shape=[5, 2],
                sprite=SpriteInfo("s.png", [4, 4]),
                tensor_path="t.tsv",
                bookmarks_path="b.json",
            ),
            EmbeddingInfo(metadata_path="template.tsv"),
        ],
        model_checkpoint_dir="d",
    )
    text = format_projector_config(config)
    assert parse_projector_config(text) == config
    assert text.index("tensor_name") < text.index("metadata_path") < text.index("tensor_path")
