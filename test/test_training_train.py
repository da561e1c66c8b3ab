"""rgpt-train: loss falls, checkpoints reload exactly, LoRA and full fine-tuning, stages, resume, packing, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from test_training_helpers import one_thread, small_image_checkpoint, small_qa_set

from rgpt_ros.cli.train import main as train_main
from rgpt_ros.model.modeling import SpatialRGPTForCausalLM
from rgpt_ros.model.testing import tiny_model, write_tiny_checkpoint
from rgpt_ros.training.collator import collator_for
from rgpt_ros.training.dataset import IGNORE_INDEX, SpatialQADataset, load_records
from rgpt_ros.training.forward import batch_logits, training_loss
from rgpt_ros.training.lora import add_lora, export_pretrained
from rgpt_ros.training.stages import STAGES, StageError, apply_stage
from rgpt_ros.training.trainer import TrainConfig, Trainer, TrainError, latest_checkpoint


@pytest.fixture(scope="module", autouse=True)
def _single_thread():
    yield from one_thread()


@pytest.fixture(scope="module")
def assets(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("train")
    return {"qa": small_qa_set(root / "qa", seed=0, per_category=1, frames=12),
            "model": small_image_checkpoint(root / "model", seed=0), "tiny": write_tiny_checkpoint(root / "tiny"),
            "root": root}


def _config(assets, out: Path, **overrides) -> TrainConfig:
    options = dict(model=str(assets["model"]), data=[str(assets["qa"])], output_dir=str(out), stage="sft", lr=2e-2,
                   max_steps=16, batch_size=8, warmup_steps=2, progress=False, seed=0)
    options.update(overrides)
    return TrainConfig(**options)


def _batch(model, qa: Path, n: int = 4, pack: bool = False) -> dict:
    dataset = SpatialQADataset(load_records([qa]), model.tokenizer, image_size=model.config.image_size)
    return collator_for(model, pack=pack, pack_length=1024)([dataset[i] for i in range(n)])


def test_loss_halves_and_the_checkpoint_reloads_with_identical_logits(assets, tmp_path):
    """The project's tiny model (write_tiny_checkpoint, 384 px) on one QA per category."""
    trainer = Trainer(_config(assets, tmp_path / "run", model=str(assets["tiny"]), max_steps=40, lr=1e-2))
    result = trainer.train()
    losses = [row["loss"] for row in result.log]
    assert len(losses) == 40 and result.step == 40
    assert sum(losses[-5:]) / 5 <= 0.5 * losses[0], losses
    assert (tmp_path / "run" / "loss.png").stat().st_size > 1000
    assert len((tmp_path / "run" / "train_log.jsonl").read_text().splitlines()) == 40
    for name in ("config.json", "llm", "vision_tower", "mm_projector", "region_extractor"):
        assert (result.final_dir / name).exists()
    reloaded = SpatialRGPTForCausalLM.from_pretrained(result.final_dir)
    trainer.model.eval()
    batch = _batch(reloaded, assets["qa"])
    assert torch.equal(batch_logits(trainer.model, batch), batch_logits(reloaded, batch))
    original = SpatialRGPTForCausalLM.from_pretrained(assets["tiny"])
    assert not torch.equal(batch_logits(original, batch), batch_logits(reloaded, batch))


def test_small_image_variant_learns_fast(assets, tmp_path):
    """The 112 px variant the other tests use learns the same data (so their checks run on a learning model)."""
    result = Trainer(_config(assets, tmp_path / "small")).train()
    losses = [row["loss"] for row in result.log]
    assert sum(losses[-3:]) / 3 <= 0.5 * losses[0], losses


def test_lora_trains_adapters_only_and_exports_merged(assets, tmp_path):
    trainer = Trainer(_config(assets, tmp_path / "lora", lora=True, lora_r=8, lora_alpha=16, lora_dropout=0.0,
                              max_steps=12, lr=5e-2))
    result = trainer.train()
    losses = [row["loss"] for row in result.log]
    assert sum(losses[-3:]) / 3 < 0.75 * losses[0], losses
    llm_trainable = [n for n, p in trainer.model.llm.named_parameters() if p.requires_grad]
    assert llm_trainable and all("lora_" in n for n in llm_trainable)
    original = SpatialRGPTForCausalLM.from_pretrained(assets["model"])
    base = trainer.model.llm.get_base_model()
    assert torch.equal(base.model.embed_tokens.weight, original.llm.model.embed_tokens.weight)
    assert torch.equal(base.model.layers[0].self_attn.q_proj.base_layer.weight,
                       original.llm.model.layers[0].self_attn.q_proj.weight)
    from safetensors import safe_open

    with safe_open(str(result.final_dir / "llm" / "model.safetensors"), "pt") as handle:
        assert not any("lora" in key for key in handle.keys())
    merged = SpatialRGPTForCausalLM.from_pretrained(result.final_dir)
    assert not torch.equal(merged.llm.model.layers[0].self_attn.q_proj.weight,
                           original.llm.model.layers[0].self_attn.q_proj.weight)
    trainer.model.eval()
    batch = _batch(merged, assets["qa"])
    torch.testing.assert_close(batch_logits(trainer.model, batch), batch_logits(merged, batch), atol=1e-4, rtol=1e-4)


def test_full_stage_updates_the_vision_tower_with_and_without_checkpointing(assets, tmp_path):
    trainer = Trainer(_config(assets, tmp_path / "full", stage="full", max_steps=2, batch_size=4, lr=1e-3))
    trainer.setup()
    before = {k: v.clone() for k, v in trainer.model.vision.vision_tower.state_dict().items()}
    plain = trainer.train().log
    after = trainer.model.vision.vision_tower.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)
    checkpointed = Trainer(_config(assets, tmp_path / "full_ckpt", stage="full", max_steps=2, batch_size=4, lr=1e-3,
                                   gradient_checkpointing=True)).train().log
    for a, b in zip(plain, checkpointed):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-5) and a["grad_norm"] == pytest.approx(b["grad_norm"],
                                                                                                   rel=1e-4)


def test_stages_freeze_the_right_parameters():
    groups = {"llm": lambda m: m.llm, "vision_tower": lambda m: m.vision.vision_tower,
              "mm_projector": lambda m: m.vision.mm_projector, "region_extractor": lambda m: m.vision.region_extractor}
    for stage, components in STAGES.items():
        model = tiny_model(0)
        counts = apply_stage(model, stage)
        for name, get in groups.items():
            if name == "vision_tower":  # only what the features use: embeddings + the layers up to select_layer
                tower = model.vision.vision_tower
                used = [tower.embeddings, *tower.encoder.layers[:-1]]
                unused = [tower.encoder.layers[-1], tower.post_layernorm, *([tower.head] if hasattr(tower, "head")
                                                                            else [])]
                assert {p.requires_grad for m in used for p in m.parameters()} == {name in components}, stage
                assert not any(p.requires_grad for m in unused for p in m.parameters()), stage
                continue
            flags = {p.requires_grad for p in get(model).parameters()}
            assert flags == ({True} if name in components else {False}), (stage, name)
        assert set(counts) == set(components)
    model = tiny_model(0)
    add_lora(model)
    apply_stage(model, "sft", lora=True)
    assert all(("lora_" in n) == p.requires_grad for n, p in model.llm.named_parameters())
    assert all(p.requires_grad for p in model.vision.mm_projector.parameters())
    with pytest.raises(StageError, match="align"):
        apply_stage(model, "align", lora=True)
    with pytest.raises(StageError, match="unknown stage"):
        apply_stage(tiny_model(0), "warmup")
    no_depth = tiny_model(0, enable_depth=False)
    apply_stage(no_depth, "align")
    assert not any(p.requires_grad for p in no_depth.vision.region_extractor.depth_projector.parameters())


def test_resume_continues_steps_schedule_and_weights(assets, tmp_path):
    options = dict(max_steps=6, batch_size=4, lr=5e-3, warmup_steps=2)
    straight = Trainer(_config(assets, tmp_path / "straight", **options))
    full_log = straight.train().log
    first = Trainer(_config(assets, tmp_path / "resumed", save_every=2, **options))
    first.train(stop_at=3)
    assert first.step == 3 and latest_checkpoint(tmp_path / "resumed").name == "checkpoint-3"
    assert not (tmp_path / "resumed" / "final").exists()
    second = Trainer(_config(assets, tmp_path / "resumed", save_every=2, resume="auto", **options))
    result = second.train()
    assert result.step == 6 and [r["step"] for r in result.log] == [1, 2, 3, 4, 5, 6]
    middle = SpatialRGPTForCausalLM.from_pretrained(tmp_path / "resumed" / "checkpoint-2")  # reference layout
    assert middle.config.enable_depth
    for a, b in zip(full_log, result.log):
        assert a["lr"] == pytest.approx(b["lr"], rel=1e-9)
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-5)
    for name, param in straight.model.named_parameters():
        torch.testing.assert_close(param, dict(second.model.named_parameters())[name], atol=1e-6, rtol=1e-5)
    with pytest.raises(TrainError, match="stage"):
        Trainer(_config(assets, tmp_path / "resumed", stage="align", resume="auto", **options)).setup()


def test_labels_cover_only_the_answers_and_packing_matches_padding(assets):
    model = SpatialRGPTForCausalLM.from_pretrained(assets["model"])
    dataset = SpatialQADataset(load_records([assets["qa"]]), model.tokenizer, image_size=model.config.image_size)
    record = dataset.records[0].record
    sample = dataset[0]
    pairs = zip(sample["input_ids"].tolist(), sample["labels"].tolist())
    answer_ids = [t for t, label in pairs if label != IGNORE_INDEX]
    assert model.tokenizer.decode(answer_ids) == record["conversations"][1]["value"] + "<|eot_id|>"
    padded, packed = _batch(model, assets["qa"], 6), _batch(model, assets["qa"], 6, pack=True)
    assert packed["input_ids"].shape[0] < padded["input_ids"].shape[0] and packed["attention_mask"] is None
    with torch.no_grad():
        loss_padded, n_padded = training_loss(model, padded)
        loss_packed, n_packed = training_loss(model, packed)
    assert n_padded == n_packed > 0
    torch.testing.assert_close(loss_packed, loss_padded, atol=1e-3, rtol=1e-5)


def test_export_casts_and_reloads(assets, tmp_path):
    model = SpatialRGPTForCausalLM.from_pretrained(assets["model"])
    folder = export_pretrained(model, tmp_path / "bf16", torch.bfloat16)
    reloaded = SpatialRGPTForCausalLM.from_pretrained(folder, dtype=torch.float32)
    expected = model.vision.mm_projector.layers[2].weight.to(torch.bfloat16).float()
    assert torch.equal(reloaded.vision.mm_projector.layers[2].weight, expected)


def test_cli(assets, tmp_path, capsys):
    argv = ["--model", str(assets["model"]), "--data", str(assets["qa"]), "--out", str(tmp_path / "cli"),
            "--max-steps", "2", "--batch-size", "4", "--lora", "--lora-r", "4", "--no-progress", "--no-plot"]
    assert train_main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["steps"] == 2 and Path(report["final"]).is_dir()
    assert train_main(argv[:6] + ["--stage", "align", "--lora"]) == 2
    assert "align" in capsys.readouterr().err
    assert train_main(["--model", str(tmp_path / "missing"), "--data", str(assets["qa"]), "--out",
                       str(tmp_path / "x")]) == 2


def test_torchrun_two_processes_match_one_process(assets, tmp_path):
    """DDP on CPU (gloo): 2 processes x batch 4 see the same 8 samples per step as 1 process x batch 8."""
    import os
    import subprocess
    import sys

    common = ["--model", str(assets["model"]), "--data", str(assets["qa"]), "--max-steps", "3", "--lr", "1e-3",
              "--warmup-steps", "1", "--stage", "full", "--no-progress", "--no-plot"]  # every component trains
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                           "-m", "rgpt_ros.cli.train", *common, "--batch-size", "4", "--out", str(tmp_path / "ddp")],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert train_main([*common, "--batch-size", "8", "--out", str(tmp_path / "single")]) == 0
    two = [json.loads(line) for line in (tmp_path / "ddp" / "train_log.jsonl").read_text().splitlines()]
    one = [json.loads(line) for line in (tmp_path / "single" / "train_log.jsonl").read_text().splitlines()]
    assert len(two) == len(one) == 3
    for a, b in zip(two, one):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-5)
        assert a["grad_norm"] == pytest.approx(b["grad_norm"], rel=1e-4)


def test_training_inputs_equal_the_inference_path(assets):
    """The training forward builds exactly the prompt embeddings the engine builds (encode_frame + prompt_embeds)."""
    from rgpt_ros.training.forward import inputs_embeds

    model = SpatialRGPTForCausalLM.from_pretrained(assets["model"])
    dataset = SpatialQADataset(load_records([assets["qa"]]), model.tokenizer, image_size=model.config.image_size)
    for i in (0, 5):
        sample = dataset[i]
        with torch.no_grad():
            trained = inputs_embeds(model, collator_for(model)([sample]))[0]
        encoding = model.encode_frame(sample["pixel_values"][None], sample["depth_pixel_values"][None],
                                      sample["masks"][None])
        prompt_length = int((sample["labels"] != IGNORE_INDEX).nonzero()[0])
        ids = sample["input_ids"][:prompt_length].tolist()
        inferred = model.prompt_embeds(ids, encoding, list(range(sample["masks"].shape[0])))[0]
        torch.testing.assert_close(trained[:inferred.shape[0]], inferred, atol=1e-5, rtol=1e-5)


def test_bf16_mixed_precision_path(assets, tmp_path):
    """The CUDA recipe on CPU: bf16 frozen weights, fp32 trainable weights, bf16 autocast, bf16 export."""
    trainer = Trainer(_config(assets, tmp_path / "bf16", dtype="bf16", lora=True, lora_r=4, max_steps=3,
                              batch_size=4, lr=1e-2))
    result = trainer.train()
    assert all(torch.isfinite(torch.tensor(row["loss"])) for row in result.log)
    assert trainer.model.vision.vision_tower.embeddings.patch_embedding.weight.dtype == torch.bfloat16
    assert {p.dtype for p in trainer.model.parameters() if p.requires_grad} == {torch.float32}
    reloaded = SpatialRGPTForCausalLM.from_pretrained(result.final_dir)
    from safetensors import safe_open

    with safe_open(str(result.final_dir / "mm_projector" / "model.safetensors"), "pt") as handle:
        assert {handle.get_tensor(k).dtype for k in handle.keys()} == {torch.bfloat16}
    assert reloaded.mask_token_id == trainer.model.mask_token_id


def test_end_to_end_demo_episode_finetune_and_bench(tmp_path, capsys):
    """The examples/finetune_demo.sh loop in small: episode QAs -> rgpt-train (384 px tiny model) -> rgpt-bench."""
    from rgpt_ros.cli.bench import main as bench_main
    from rgpt_ros.cli.make_qa import main as make_qa_main

    assert make_qa_main([str(tmp_path / "qa"), "--episode", "straight", "--episode-frames", "12", "--episode-stride",
                         "2", "--width", "320", "--height", "240", "--eval-fraction", "0.3", "--min-gap", "0.02",
                         "--no-progress"]) == 0
    write_tiny_checkpoint(tmp_path / "tiny")
    assert train_main(["--model", str(tmp_path / "tiny"), "--data", str(tmp_path / "qa"), "--out",
                       str(tmp_path / "run"), "--max-steps", "2", "--batch-size", "4", "--lr", "1e-2", "--no-progress",
                       "--no-plot"]) == 0
    capsys.readouterr()
    assert bench_main([str(tmp_path / "qa" / "eval.json"), "--backend", "spatialrgpt", "--checkpoint",
                       str(tmp_path / "run" / "final"), "--out", str(tmp_path / "pred.jsonl"), "--limit", "3",
                       "--no-progress"]) == 0
    rows = [json.loads(line) for line in (tmp_path / "pred.jsonl").read_text().splitlines()]
    assert len(rows) == 3 and all(row["success"] and row["pred"] for row in rows)
    assert "[all]" in capsys.readouterr().out
