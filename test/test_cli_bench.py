"""rgpt-bench end to end on a rendered RGB-D bench: predictions file, table, skips, errors."""

import json

import cv2

from rgpt_ros.cli.bench import main, run_bench
from rgpt_ros.engines.geometric import GeometricEngine
from rgpt_ros.geometry.depth import decode_depth
from rgpt_ros.qa.bench import load_bench


def test_geometric_backend_answers_and_scores(synthetic_bench, tmp_path, capsys):
    out = tmp_path / "pred.jsonl"
    assert main([str(synthetic_bench), "--root", str(synthetic_bench.parent), "--backend", "geometric",
                 "--out", str(out), "--no-progress"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    samples = load_bench(synthetic_bench)
    assert [r["id"] for r in rows] == [s.id for s in samples]
    assert all({"id", "pred", "value", "unit"} <= set(r) for r in rows)
    lengths = [r for r in rows if r["unit"] == "m"]
    assert lengths and all(isinstance(r["value"], float) for r in lengths)
    assert sum(bool(r["correct"]) for r in rows) >= 0.9 * len(rows)
    table = capsys.readouterr().out
    assert "category" in table and "[qualitative]" in table and "[quantitative]" in table and "0 skipped" in table


def test_samples_without_depth_are_skipped_unless_an_estimator_is_given(synthetic_bench, tmp_path, capsys):
    root = synthetic_bench.parent
    entries = json.loads(synthetic_bench.read_text())[:6]
    depth_files = [entry.pop("depth_info")["file_path"] for entry in entries[:4]]
    path = tmp_path / "partial.json"
    path.write_text(json.dumps(entries))
    out = tmp_path / "pred.jsonl"
    assert main([str(path), "--root", str(root), "--out", str(out), "--no-progress"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r.get("skipped", False) for r in rows] == [True] * 4 + [False] * 2
    assert all(r["pred"] == "" for r in rows[:4]) and all(r["pred"] for r in rows[4:])
    assert "4 skipped" in capsys.readouterr().out
    # a depth estimator (rgb -> metres; here one that returns the scene's sensor depth) makes them answerable
    sensor_depth = decode_depth(cv2.imread(str(root / depth_files[0]), cv2.IMREAD_UNCHANGED), "16UC1")
    samples = load_bench(path, root)[:1]
    (row, score), = run_bench(samples, GeometricEngine(), lambda rgb: sensor_depth, progress=False)
    assert not score.skipped and row["success"] and row["pred"]


def test_missing_file_and_bad_backend_fail_clearly(synthetic_bench, tmp_path, capsys):
    assert main([str(tmp_path / "nope.json"), "--out", str(tmp_path / "p.jsonl")]) == 2
    assert "bench file not found" in capsys.readouterr().err
    assert main([str(synthetic_bench), "--backend", "oracle", "--out", str(tmp_path / "p.jsonl")]) == 2
    assert "unknown backend 'oracle'" in capsys.readouterr().err
    assert not (tmp_path / "p.jsonl").exists()
    entries = json.loads(synthetic_bench.read_text())[:1]
    entries[0]["image_info"]["file_path"] = "images/missing.png"
    bad = tmp_path / "b.json"
    bad.write_text(json.dumps(entries))
    assert main([str(bad), "--root", str(synthetic_bench.parent), "--out", str(tmp_path / "p.jsonl")]) == 2
    assert "cannot read image" in capsys.readouterr().err


def test_engine_options_are_passed_through(synthetic_bench, tmp_path, capsys):
    out = tmp_path / "p.jsonl"
    args = [str(synthetic_bench), "--out", str(out), "--no-progress", "--limit", "3"]
    assert main(args + ["-O", "edge_px=1", "-O", "largest_cluster=true"]) == 0
    assert len(out.read_text().splitlines()) == 3
    assert main(args + ["-O", "colour=red"]) == 2
    assert "unknown option" in capsys.readouterr().err
    assert main(args + ["-O", "edge_px"]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err


def test_refusals_count_as_wrong(synthetic_bench):
    samples = [s for s in load_bench(synthetic_bench) if s.category.endswith("_predicate")][:2]
    for s in samples:
        s.question = "What colour is Region [0]?"  # unanswerable: the engine refuses
    results = list(run_bench(samples, GeometricEngine(), progress=False))
    assert [row["success"] for row, _ in results] == [False, False]
    assert [score.success for _, score in results] == [False, False]


def test_depth_model_fills_in_missing_depth(tmp_path):
    """Samples without depth are skipped, and answered once a metric depth model stands in for the sensor."""
    import json

    from rgpt_ros.cli.bench import main
    from rgpt_ros.depth.configs import write_random_depth_checkpoint
    from rgpt_ros.synthetic.bench_scenes import write_synthetic_bench

    bench = write_synthetic_bench(tmp_path / "synth", n_scenes=1, seed=3, width=160, height=120)
    entries = json.loads(bench.read_text() if hasattr(bench, "read_text") else open(bench).read())
    for entry in entries:
        entry.pop("depth_info", None)
    rgb_only = tmp_path / "synth" / "rgb_only.json"
    rgb_only.write_text(json.dumps(entries))
    out = tmp_path / "pred.jsonl"
    assert main([str(rgb_only), "--out", str(out), "--no-progress"]) == 0
    assert all(json.loads(line).get("skipped") for line in out.read_text().splitlines())

    depth_model = write_random_depth_checkpoint(tmp_path / "metric", metric=True, max_depth=10, seed=0)
    assert main([str(rgb_only), "--out", str(out), "--no-progress", "--depth-model", str(depth_model)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == len(entries) and not any(row.get("skipped") for row in rows)

    relative = write_random_depth_checkpoint(tmp_path / "relative", metric=False, seed=0)
    assert main([str(rgb_only), "--out", str(out), "--no-progress", "--depth-model", str(relative)]) == 2
