"""Discovery over logdirs: layouts, steps, name matching, containment and per-run errors."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from projector.logdir import Discovery, EmbeddingEntry, LogdirError, discover
from tests.logdir_fixtures import LOGDIRS, bits_equal, expected_tensors


def _copy(name: str, dest: Path) -> Path:
    shutil.copytree(LOGDIRS / name, dest)
    return dest


def _by_name(found: Discovery) -> dict[tuple[str, int | None], EmbeddingEntry]:
    return {(e.name, e.step): e for e in found.entries}


@pytest.fixture(scope="module")
def everything() -> Discovery:
    return discover(LOGDIRS)


def test_fixture_logdir_entries(everything: Discovery) -> None:
    found = _by_name(everything)
    keras = {("keras3_callback/tokens", 0), ("keras3_callback/tokens", 1)}
    assert set(found) == keras | {
        ("tensorboardx/plain/vec", 0),
        ("tensorboardx/points", 0),
        ("tensorboardx/points", 1),
        ("tf1_saver/big_embedding", 10),
        ("tf1_saver/word_embedding", 10),
        ("tf2_checkpoint/embedding", 1),
        ("tf2_checkpoint/embedding", 2),
        ("torch_tb/default", 0),
        ("torch_tb/default", 5),
    }
    assert everything.errors == []
    assert everything.messages() == []


def test_every_entry_loads_bit_exact(everything: Discovery) -> None:
    expected = {name: expected_tensors(name) for name in ("keras3_callback", "tensorboardx", "tf1_saver", "tf2_checkpoint", "torch_tb")}
    for entry in everything.entries:
        values = expected[entry.run]
        if entry.kind == "checkpoint":
            key = f"{entry.source_path.name}|{entry.tensor_name}"
        elif entry.kind == "keras_h5":
            key = f"{entry.source_path.name.removesuffix('.weights.h5')}|{entry.name.split('/')[-1]}"
        else:
            key = entry.tensor_name
        array = entry.load_tensor()
        assert bits_equal(array, values[key].astype(np.float32)), entry.name
        assert entry.shape == array.shape


def test_entry_fields_and_assets(everything: Discovery) -> None:
    found = _by_name(everything)
    points = found[("tensorboardx/points", 1)]
    assert points.run == "tensorboardx"
    assert points.tensor_name == "points:00001"
    assert points.kind == "tsv"
    assert points.metadata_path == LOGDIRS / "tensorboardx" / "00001" / "points" / "metadata.tsv"
    assert points.sprite_path == LOGDIRS / "tensorboardx" / "00001" / "points" / "sprite.png"
    assert points.sprite_dim == (8, 8)
    assert points.bookmarks_path is None
    assert points.config_path == LOGDIRS / "tensorboardx" / "projector_config.pbtxt"
    tf2 = found[("tf2_checkpoint/embedding", 2)]
    assert tf2.tensor_name == "embedding/.ATTRIBUTES/VARIABLE_VALUE"
    assert tf2.metadata_path == LOGDIRS / "tf2_checkpoint" / "metadata.tsv"
    assert tf2.shape == (30, 8)
    keras = found[("keras3_callback/tokens", 1)]
    assert keras.kind == "keras_h5"
    assert keras.metadata_path == LOGDIRS / "keras3_callback" / "metadata.tsv"  # paired with the config
    tf1 = found[("tf1_saver/word_embedding", 10)]
    assert tf1.metadata_path == LOGDIRS / "tf1_saver" / "labels.tsv"  # "word_embedding:0" matched
    assert found[("tf1_saver/big_embedding", 10)].metadata_path is None


def test_optimizer_slots_are_not_embeddings(everything: Discovery) -> None:
    names = [e.tensor_name for e in everything.entries]
    assert not any("optimizer" in n or "OPTIMIZER_SLOT" in n for n in names)


def test_steps_form_sequences(everything: Discovery) -> None:
    groups = everything.sequences()
    steps = {group[0].name: [e.step for e in group] for group in groups.values()}
    assert steps == {
        "keras3_callback/tokens": [0, 1],
        "tensorboardx/plain/vec": [0],
        "tensorboardx/points": [0, 1],
        "tf1_saver/big_embedding": [10],
        "tf1_saver/word_embedding": [10],
        "tf2_checkpoint/embedding": [1, 2],
        "torch_tb/default": [0, 5],
    }
    keys = [e.key for e in everything.entries]
    assert len(set(keys)) == len(keys)


def test_keys_are_stable_and_independent_of_the_logdir_location(tmp_path: Path) -> None:
    first = discover(_copy("tf2_checkpoint", tmp_path / "a" / "tf2_checkpoint"))
    second = discover(_copy("tf2_checkpoint", tmp_path / "b" / "tf2_checkpoint"))
    assert [e.key for e in first.entries] == [e.key for e in second.entries]
    assert all(len(e.key) == 16 and e.key.isalnum() for e in first.entries)
    assert [e.run for e in first.entries] == [".", "."]
    assert [e.name for e in first.entries] == ["embedding", "embedding"]


def test_signature_changes_when_a_file_changes(tmp_path: Path) -> None:
    root = _copy("tensorboardx", tmp_path / "tbx")
    before = {e.key: e.signature for e in discover(root).entries}
    again = {e.key: e.signature for e in discover(root).entries}
    assert before == again
    meta = root / "00001" / "points" / "metadata.tsv"
    meta.write_text(meta.read_text() + "")
    os.utime(meta, ns=(1, 1))
    after = {e.key: e.signature for e in discover(root).entries}
    changed = {k for k in before if before[k] != after[k]}
    assert len(changed) == 1


def test_root_subfolder_and_plugin_configs(tmp_path: Path) -> None:
    root = tmp_path / "logs"
    root.mkdir()
    (root / "root.tsv").write_text("1\t2\n3\t4\n")
    (root / "projector_config.pbtxt").write_text('embeddings { tensor_path: "root.tsv" }\n')
    deep = root / "runs" / "a" / "b"
    deep.mkdir(parents=True)
    (deep / "vecs.tsv").write_text("1\t2\t3\n")
    (deep / "projector_config.pbtxt").write_text('embeddings { tensor_name: "deep" tensor_path: "vecs.tsv" }\n')
    run_c = root / "runs" / "c"
    _copy("tf2_checkpoint", run_c)
    (run_c / "projector_config.pbtxt").unlink()
    plugin = run_c / "plugins" / "org_tensorflow_tensorboard_projector"
    plugin.mkdir(parents=True)
    (plugin / "labels.tsv").write_text("".join(f"x{i}\n" for i in range(30)))
    (plugin / "projector_config.pbtxt").write_text('embeddings { tensor_name: "embedding" metadata_path: "labels.tsv" }\n')
    found = discover(root)
    assert found.errors == []
    names = sorted((e.run, e.name, e.step) for e in found.entries)
    assert names == [
        (".", "root.tsv", None),
        ("runs/a/b", "runs/a/b/deep", None),
        ("runs/c", "runs/c/embedding", 1),
        ("runs/c", "runs/c/embedding", 2),
    ]
    plugin_entry = next(e for e in found.entries if e.run == "runs/c")
    assert plugin_entry.metadata_path == plugin / "labels.tsv"  # relative to the config's folder
    assert plugin_entry.tensor_name == "embedding/.ATTRIBUTES/VARIABLE_VALUE"


def test_template_entry_applies_to_all_checkpoint_tensors(tmp_path: Path) -> None:
    root = _copy("tf1_saver", tmp_path / "run")
    (root / "projector_config.pbtxt").write_text('embeddings { metadata_path: "labels.tsv" }\n')
    found = discover(root)
    assert {e.name: e.metadata_path for e in found.entries} == {
        "big_embedding": root / "labels.tsv",
        "word_embedding": root / "labels.tsv",
    }


def test_checkpoint_without_config_and_without_state_file(tmp_path: Path) -> None:
    root = _copy("tf2_checkpoint", tmp_path / "run")
    (root / "projector_config.pbtxt").unlink()
    assert [e.step for e in discover(root).entries] == [1, 2]  # the `checkpoint` file marks the run
    (root / "checkpoint").unlink()
    (root / "projector_config.pbtxt").write_text("")
    assert [e.step for e in discover(root).entries] == [1, 2]  # glob of *.index


def test_model_checkpoint_path_and_dir(tmp_path: Path) -> None:
    root = tmp_path / "logs"
    _copy("multishard", root / "ckpts")
    (root / "projector_config.pbtxt").write_text('model_checkpoint_path: "ckpts/sharded"\n')
    found = discover(root)
    assert sorted(e.name for e in found.entries) == ["alpha", "beta", "gamma"]
    expected = expected_tensors("multishard")
    for entry in found.entries:
        assert bits_equal(entry.load_tensor(), expected[f"sharded|{entry.tensor_name}"])
    (root / "projector_config.pbtxt").write_text('model_checkpoint_dir: "ckpts"\n')
    (root / "ckpts" / "checkpoint").write_text('model_checkpoint_path: "sharded"\n')
    assert sorted(e.name for e in discover(root).entries) == ["alpha", "beta", "gamma"]


def test_raw_tensor_path(tmp_path: Path) -> None:
    root = tmp_path / "logs"
    root.mkdir()
    array = np.linspace(-1e30, 1e30, 12, dtype=np.float32).reshape(4, 3)
    (root / "t.bytes").write_bytes(array.tobytes())
    (root / "projector_config.pbtxt").write_text('embeddings { tensor_name: "raw:0" tensor_path: "t.bytes" tensor_shape: [4, 3] }\n')
    (entry,) = discover(root).entries
    assert (entry.kind, entry.tensor_name, entry.shape) == ("raw", "raw", (4, 3))
    assert bits_equal(entry.load_tensor(), array)


def test_utf8_character_across_the_sniffed_prefix_is_still_text(tmp_path: Path) -> None:
    root = tmp_path / "logs"
    root.mkdir()
    line = "1.5\t2.5\n"
    text = line * (65535 // len(line))
    text += " " * (65535 - len(text.encode())) + "é\n" + line  # "é" straddles byte 65536
    (root / "t.tsv").write_text(text, encoding="utf-8")
    (root / "projector_config.pbtxt").write_text('embeddings { tensor_path: "t.tsv" }\n')
    (entry,) = discover(root).entries
    assert entry.kind == "tsv"


def test_no_checkpoint_message_only_when_nothing_else(tmp_path: Path) -> None:
    root = tmp_path / "logs"
    _copy("torch_tb", root / "tsv_only")
    (root / "named").mkdir()
    (root / "named" / "projector_config.pbtxt").write_text('embeddings { tensor_name: "emb" }\n')
    found = discover(root)
    assert [e.run for e in found.errors] == ["named"]
    assert "no checkpoint was found" in found.errors[0].message
    assert "'emb'" in found.errors[0].message
    assert len(found.entries) == 2


def test_missing_discovered_logdir(tmp_path: Path) -> None:
    with pytest.raises(LogdirError, match="logdir not found"):
        discover(tmp_path / "nope")


# --- problems stay with their run ------------------------------------------------------


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    root = tmp_path / "logs"
    _copy("tensorboardx", root / "good")
    return root


def _good_still_there(found: Discovery) -> None:
    assert {e.name for e in found.entries if e.run == "good" and not e.error} >= {"good/points", "good/plain/vec"}


def test_malformed_pbtxt(mixed: Path) -> None:
    (mixed / "bad").mkdir()
    (mixed / "bad" / "projector_config.pbtxt").write_text('embeddings {\n  tensor_name: "x"\n')
    found = discover(mixed)
    _good_still_there(found)
    (error,) = found.errors
    assert error.run == "bad"
    assert "projector_config.pbtxt" in error.message and "missing '}'" in error.message


def test_truncated_index_keeps_other_steps(mixed: Path) -> None:
    run = _copy("tf2_checkpoint", mixed / "ckpt")
    index = run / "embedding.ckpt-2.index"
    index.write_bytes(index.read_bytes()[:200])
    found = discover(mixed)
    _good_still_there(found)
    assert [(e.name, e.step) for e in found.entries if e.run == "ckpt"] == [("ckpt/embedding", 1)]
    (error,) = found.errors
    assert error.run == "ckpt" and "embedding.ckpt-2.index" in error.message and "truncated" in error.message


def test_wrong_checksum_is_reported_on_load(mixed: Path) -> None:
    run = _copy("tf2_checkpoint", mixed / "ckpt")
    data = run / "embedding.ckpt-1.data-00000-of-00001"
    raw = bytearray(data.read_bytes())
    raw[200] ^= 0xFF
    data.write_bytes(bytes(raw))
    found = discover(mixed)
    entry = next(e for e in found.entries if e.run == "ckpt" and e.step == 1)
    with pytest.raises(LogdirError, match="checksum mismatch"):
        entry.load_tensor()
    assert next(e for e in found.entries if e.run == "ckpt" and e.step == 2).load_tensor().shape == (30, 8)


def test_missing_shard(mixed: Path) -> None:
    run = _copy("multishard", mixed / "sharded")
    (run / "projector_config.pbtxt").write_text("")
    (run / "sharded.data-00000-of-00005").unlink()
    found = discover(mixed)
    _good_still_there(found)
    errors = {e.name: e.error for e in found.entries if e.run == "sharded"}
    assert any(errors.values())
    for name, error in errors.items():
        if error:
            assert "missing data file" in error and "sharded.data-00000-of-00005" in error
            with pytest.raises(LogdirError, match="missing data file"):
                next(e for e in found.entries if e.name == name).load_tensor()
    assert any(m.startswith("sharded/") and "missing data file" in m for m in found.messages())


def test_unsupported_dtype_named_in_config(mixed: Path) -> None:
    run = _copy("tf2_dtypes", mixed / "dtypes")
    (run / "projector_config.pbtxt").write_text('embeddings { tensor_name: "cplx" }\nembeddings { tensor_name: "vector" }\n')
    found = discover(mixed)
    entries = {e.name: e for e in found.entries if e.run == "dtypes"}
    assert "dtype complex64" in (entries["dtypes/cplx"].error or "")
    assert "must be 2-D" in (entries["dtypes/vector"].error or "")
    assert "dtypes/ints" not in entries  # integer tensors are not picked automatically
    expected = expected_tensors("tf2_dtypes")
    for short in ("half", "bf16", "double"):
        assert bits_equal(entries[f"dtypes/{short}"].load_tensor(), expected[f"dtypes|{short}/.ATTRIBUTES/VARIABLE_VALUE"])


def test_named_tensor_missing_from_checkpoint(mixed: Path) -> None:
    run = _copy("tf2_checkpoint", mixed / "ckpt")
    (run / "projector_config.pbtxt").write_text('embeddings { tensor_name: "nothing_here" }\n')
    found = discover(mixed)
    missing = [e for e in found.entries if e.tensor_name == "nothing_here"]
    assert len(missing) == 2 and all("no tensor 'nothing_here'" in (e.error or "") for e in missing)
    assert [e.step for e in found.entries if e.name == "ckpt/embedding"] == [1, 2]


def test_paths_outside_the_logdir_are_refused(mixed: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.tsv"
    secret.write_text("1\t2\n")
    run = mixed / "evil"
    run.mkdir()
    (run / "ok.tsv").write_text("1\t2\n")
    (run / "projector_config.pbtxt").write_text(
        f'embeddings {{ tensor_name: "abs" tensor_path: "{secret}" }}\n'
        'embeddings { tensor_name: "up" tensor_path: "../../secret.tsv" }\n'
        'embeddings { tensor_name: "meta" tensor_path: "ok.tsv" metadata_path: "../../secret.tsv" '
        'sprite { image_path: "/etc/passwd" single_image_dim: [2, 2] } }\n'
    )
    found = discover(mixed)
    _good_still_there(found)
    entries = {e.name: e for e in found.entries if e.run == "evil"}
    for name in ("evil/abs", "evil/up"):
        assert "points outside the logdir" in (entries[name].error or "")
        with pytest.raises(LogdirError, match="outside the logdir"):
            entries[name].load_tensor()
    meta = entries["evil/meta"]
    assert meta.error is None and meta.metadata_path is None and meta.sprite_path is None
    assert len(meta.warnings) == 2 and all("outside the logdir" in w for w in meta.warnings)
    assert meta.load_tensor().shape == (1, 2)


def test_symlinks_escaping_the_logdir_are_refused(mixed: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    _copy("tf2_checkpoint", outside)
    run = mixed / "links"
    run.mkdir()
    (run / "vec.tsv").symlink_to(outside / "metadata.tsv")
    (run / "meta.tsv").symlink_to(outside / "metadata.tsv")
    (run / "inside.tsv").write_text("1\t2\n")
    (run / "alias.tsv").symlink_to(run / "inside.tsv")  # stays inside: allowed
    (run / "projector_config.pbtxt").write_text(
        'embeddings { tensor_name: "vec" tensor_path: "vec.tsv" }\n'
        'embeddings { tensor_name: "alias" tensor_path: "alias.tsv" metadata_path: "meta.tsv" }\n'
    )
    (mixed / "linked_run").symlink_to(outside, target_is_directory=True)  # not followed
    ckpt_run = mixed / "ckpt_links"
    ckpt_run.mkdir()
    for path in outside.glob("embedding.ckpt-*"):
        (ckpt_run / path.name).symlink_to(path)
    (ckpt_run / "projector_config.pbtxt").write_text("")
    found = discover(mixed)
    _good_still_there(found)
    entries = {e.name: e for e in found.entries if e.run == "links"}
    assert "symlink" in (entries["links/vec"].error or "") and "outside the logdir" in (entries["links/vec"].error or "")
    assert str(outside) not in (entries["links/vec"].error or "")  # where the link leads is not shown
    alias = entries["links/alias"]
    assert alias.error is None and alias.metadata_path is None
    assert any("symlink" in w for w in alias.warnings)
    assert not any(e.run.startswith("linked_run") for e in found.entries)
    assert not any(e.run == "ckpt_links" for e in found.entries)
    assert any(e.run == "ckpt_links" and "symlink" in e.message for e in found.errors)
