"""CSV and PNG outputs of bag annotation, and the CLI's argument handling (no bag needed)."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

from rgpt_ros.bags.batch import bag_stem, plan_jobs
from rgpt_ros.bags.export import write_csv
from rgpt_ros.bags.plot import _spans, write_plot
from rgpt_ros.bags.records import FrameRecord
from rgpt_ros.cli.annotate import build_parser, load_config, main, parse_pair
from rgpt_ros.geometry.regions import RegionError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _records(n: int = 40) -> list[FrameRecord]:
    out = []
    for i in range(n):
        lost = 15 <= i < 20
        out.append(FrameRecord(
            frame=i, stamp_ns=1_000_000_000 + i * 33_333_333, distance_m=math.nan if lost else 0.2 - 0.004 * i,
            reward=0.0 if lost else -0.2 + 0.004 * i, valid=not lost, progress=0.0 if lost else 0.004,
            success=i > 35, status="tracking lost: fingertip" if lost else "",
            boxes={"fingertip": None if lost else (10 + i, 20, 30 + i, 40), "cube": (100, 100, 140, 150)},
            tracked={"fingertip": not lost, "cube": True}))
    return out


def test_csv_columns_and_values(tmp_path):
    path = write_csv(_records(), tmp_path / "sub" / "ep.csv")
    with path.open() as f:
        rows = list(csv.DictReader(f))
    header = list(rows[0].keys())
    assert header[:5] == ["frame", "stamp_ns", "distance_m", "reward", "valid"]
    for rid in ("fingertip", "cube"):
        assert [f"{rid}_{k}" for k in ("x1", "y1", "x2", "y2", "tracked")] == [h for h in header if h.startswith(rid)]
    assert len(rows) == 40
    assert rows[3]["frame"] == "3" and rows[3]["stamp_ns"] == str(1_000_000_000 + 3 * 33_333_333)
    assert float(rows[3]["distance_m"]) == pytest.approx(0.188) and rows[3]["valid"] == "1"
    assert rows[3]["fingertip_x1"] == "13" and rows[3]["fingertip_x2"] == "33" and rows[3]["fingertip_tracked"] == "1"
    assert rows[16]["distance_m"] == "" and rows[16]["valid"] == "0" and rows[16]["fingertip_x1"] == ""
    assert rows[16]["fingertip_tracked"] == "0" and rows[16]["cube_x1"] == "100"
    assert "tracking lost" in rows[16]["status"]
    assert not list(tmp_path.glob("**/*.partial"))


def test_plot_is_a_png_and_marks_lost_spans(tmp_path):
    times = np.arange(10, dtype=float)
    assert _spans(times, np.array([0, 1, 1, 0, 0, 0, 1, 1, 1, 1], bool)) == [(1.0, 3.0), (6.0, 10.0)]
    assert _spans(times, np.zeros(10, bool)) == []
    path = write_plot(_records(), tmp_path / "ep.png", title="episode")
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 5000
    import matplotlib.image as mpimg

    image = mpimg.imread(path)
    assert image.shape[0] > 300 and image.shape[1] > 600
    reddish = (image[..., 0] > 0.9) & (image[..., 1] < 0.85) & (image[..., 1] > 0.6) & (image[..., 2] < 0.85)
    assert reddish.sum() > 500  # the shaded tracking-lost span is drawn
    clean = [r for r in _records() if r.valid]
    clean_png = mpimg.imread(write_plot(clean, tmp_path / "clean.png"))
    clean_reddish = (clean_png[..., 0] > 0.9) & (clean_png[..., 1] < 0.85) & (clean_png[..., 1] > 0.6) & (
        clean_png[..., 2] < 0.85)
    assert clean_reddish.sum() < reddish.sum() / 10


def test_job_planning(tmp_path):
    assert bag_stem("data/run1.mcap") == "run1" and bag_stem("data/ep7/") == "ep7"
    (job,) = plan_jobs(["a.mcap"], tmp_path / "o", "x.csv", None)
    assert job.out == str(tmp_path / "o") and job.csv == "x.csv" and job.plot is None
    jobs = plan_jobs(["d/a.mcap", "d/b"], tmp_path / "o", tmp_path / "c", tmp_path / "p")
    assert [j.out for j in jobs] == [str(tmp_path / "o" / "a"), str(tmp_path / "o" / "b")]
    assert jobs[1].csv == str(tmp_path / "c" / "b.csv") and jobs[0].plot == str(tmp_path / "p" / "a.png")
    with pytest.raises(ValueError, match="share the name"):
        plan_jobs(["x/a.mcap", "y/a"], tmp_path / "o")


def test_cli_argument_errors(tmp_path, capsys):
    assert parse_pair("fingertip, cube") == ("fingertip", "cube")
    with pytest.raises(RegionError, match="two region ids"):
        parse_pair("a,b,c")
    with pytest.raises(SystemExit):
        main(["bag", "--out", str(tmp_path / "o"), "--region", "tip=1,2,3"])
    assert "exactly 4 coordinates" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["bag", "--out", str(tmp_path / "o"), "--workers", "0"])
    assert "--workers must be >= 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["bag", "--out", str(tmp_path / "o"), "--backend", "spatialrgpt"])
    assert "geometrically from depth" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("- just\n- a list\n")
    with pytest.raises(ValueError, match="must hold a mapping"):
        load_config(str(bad))
    with pytest.raises(ValueError, match="cannot read --config"):
        load_config(str(tmp_path / "missing.yaml"))
    args = build_parser().parse_args(["b1", "b2", "--out", "o", "--region", "a=1,2,3,4", "--pair", "a,b"])
    assert args.bags == ["b1", "b2"] and args.workers == 1 and args.backend == "geometric"


def test_cli_reports_missing_bag_without_traceback(tmp_path, capsys):
    code = main([str(tmp_path / "nope"), "--out", str(tmp_path / "o"), "--region", "a=1,2,3,4",
                 "--region", "b=5,6,7,8", "--no-progress"])
    assert code == 1
    err = capsys.readouterr().err
    assert "FAILED" in err and "does not exist" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()
