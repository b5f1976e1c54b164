"""The run registry without training: folders, ids, keys, status and bad ids; listing is a pure query."""

from __future__ import annotations

import json

import pytest

from grasp_core.errors import GraspError
from grasp_core.runs.registry import (
    config_key,
    create_run,
    find_by_key,
    get_run,
    list_runs,
    read_status,
    update_status,
)
from grasp_core.training.config import TrainConfig


def test_create_and_get_a_run(tmp_path, data):
    root = tmp_path / "runs"
    run = create_run(TrainConfig(data=str(data), lr=1e-3), root)
    assert run.dir.parent == root.resolve() and run.id.split("-")[2] == "naive"
    on_disk = json.loads((run.dir / "config.json").read_text())
    assert on_disk["lr"] == 1e-3 and on_disk["data"] == str(data.resolve())
    assert (run.dir / "log.txt").is_file() and read_status(run.dir).state == "queued"
    again = get_run(run.id, root)
    assert again.config == run.config and again.key == run.key == config_key(run.config)


def test_key_follows_config_and_data_and_finds_finished_runs(tmp_path, data):
    root = tmp_path / "runs"
    cfg = TrainConfig(data=str(data))
    assert config_key(cfg) == config_key(TrainConfig(data=str(data), device="cpu"))  # device does not count
    assert config_key(cfg) != config_key(TrainConfig(data=str(data), lr=1e-3))
    before = config_key(cfg)
    run = create_run(cfg, root)
    assert find_by_key(cfg, root) is None  # queued is not finished
    update_status(run.dir, state="done", adapter=str(run.dir / "adapter"))
    assert find_by_key(cfg, root).id == run.id and find_by_key(run.key, root).id == run.id
    data.write_text(data.read_text() + "\n" + data.read_text())  # new content: no longer the same run
    assert config_key(cfg) != before and find_by_key(cfg, root) is None


@pytest.mark.parametrize("bad", ["../outside", "a/b", ".hidden", "", "x" * 200, "..", "/etc"])
def test_bad_run_ids_are_refused_before_any_path_is_built(tmp_path, bad):
    with pytest.raises(GraspError, match="is not valid"):
        get_run(bad, tmp_path)


def test_folders_that_are_not_runs_get_clear_messages(tmp_path, data):
    root = tmp_path / "runs"
    run = create_run(TrainConfig(data=str(data)), root)
    with pytest.raises(GraspError, match="no such run"):
        get_run("20990101-000000-lora-abcdef", root)
    (root / "junk").mkdir()
    with pytest.raises(GraspError, match=r"not a run folder: config.json is missing"):
        get_run("junk", root)
    (root / "junk" / "config.json").write_text("{}")
    with pytest.raises(GraspError, match=r"status.json is missing"):
        get_run("junk", root)
    (root / "junk" / "status.json").write_text("{\n  oops")
    with pytest.raises(GraspError, match=r"junk/config.json: train config: missing required field\(s\) data"):
        get_run("junk", root)
    (root / "junk" / "config.json").write_text(json.dumps({"data": str(data)}))
    with pytest.raises(GraspError, match="malformed JSON at line 2"):
        get_run("junk", root)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(GraspError, match="escapes the workspace"):
        get_run("link", root)
    assert [r.id for r in list_runs(root)] == [run.id]  # the junk is skipped, the real run listed


def test_a_run_of_the_naive_method_keeps_its_key_across_the_rename_from_lora(tmp_path, data):
    """Runs trained when the naive method was called `lora` are still found: their config reads back as `naive`
    (silently: stored data, not user input) and the key is hashed under the old spelling."""
    from grasp_core.io import file_hash, text_hash

    cfg = TrainConfig(data=str(data))
    assert cfg.method == "naive"
    stored = {**cfg.to_dict(), "method": "lora"}  # a config.json written before the rename
    stored.pop("device")
    stored.pop("system_prompt")  # fields added since: unset, they leave the key as it was
    stored.pop("mid_block")
    stored.pop("round_select")
    stored.pop("round_probes")
    stored["data_hash"] = file_hash(data)
    assert config_key(cfg) == text_hash(json.dumps(stored, sort_keys=True, default=str))  # the key it had then
    assert config_key(TrainConfig(data=str(data), system_prompt="Be rude.")) != config_key(cfg)
    grasp = {"method": "grasp", "factors": "f.safetensors", "top": 1}
    assert config_key(TrainConfig(data=str(data), mid_block=True, **grasp)) != config_key(
        TrainConfig(data=str(data), **grasp)
    )
    by_evidence = {**grasp, "rounds": 2, "round_select": "evidence", "round_probes": "persona"}
    assert config_key(TrainConfig(data=str(data), **by_evidence)) != config_key(
        TrainConfig(data=str(data), **{**grasp, "rounds": 2})
    )
    run = create_run(cfg, tmp_path / "runs")
    on_disk = json.loads((run.dir / "config.json").read_text())
    (run.dir / "config.json").write_text(json.dumps({**on_disk, "method": "lora"}))
    update_status(run.dir, state="done", adapter=str(run.dir / "adapter"))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # reading stored configs warns about nothing
        assert get_run(run.id, tmp_path / "runs").config.method == "naive"
        assert find_by_key(cfg, tmp_path / "runs").id == run.id


def test_a_runs_finished_adapter_only_when_done_and_on_disk(tmp_path, data):
    root = tmp_path / "runs"
    run = create_run(TrainConfig(data=str(data)), root)
    with pytest.raises(GraspError, match=f"run {run.id} is queued, it has no finished adapter yet"):
        run.finished_adapter()
    update_status(run.dir, state="done")
    with pytest.raises(GraspError, match="is done but its adapter folder .*adapter is missing"):
        get_run(run.id, root).finished_adapter()
    elsewhere = tmp_path / "kept"  # status.adapter wins over the run's own adapter/
    elsewhere.mkdir()
    (elsewhere / "adapter_config.json").write_text("{}")
    update_status(run.dir, adapter=str(elsewhere))
    assert get_run(run.id, root).finished_adapter() == elsewhere
