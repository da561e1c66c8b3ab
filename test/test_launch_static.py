"""Launch files and config checked without ``ros2 launch``: every executable, parameter and file they
name exists and matches what the nodes declare. A launch_testing run happens where launch_ros imports."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from rgpt_ros.ros import launch_plan
from rgpt_ros.ros.config_file import NODE_NAMES, render_config
from rgpt_ros.ros.launcher import CONTAINER, NODES
from rgpt_ros.ros.parameters import ParameterError, params_of

ROOT = Path(__file__).resolve().parents[1]
LAUNCH = {"reward.launch.py": ("REWARD_ARGUMENTS", "reward_nodes"),
          "spatial_qa.launch.py": ("SPATIAL_QA_ARGUMENTS", "spatial_qa_nodes")}


def _cmake_executables() -> set[str]:
    text = (ROOT / "CMakeLists.txt").read_text()
    match = re.search(r"foreach\(node ([^)]*)\)", text)
    assert match, "CMakeLists.txt must install the node executables"
    return set(match.group(1).split())


@pytest.mark.parametrize("launch_file", sorted(LAUNCH))
def test_launch_file_uses_the_tested_plan(launch_file):
    tree = ast.parse((ROOT / "launch" / launch_file).read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                and node.module == "rgpt_ros.ros.launch_plan" for alias in node.names}
    assert set(LAUNCH[launch_file]) <= imported
    functions = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    assert "generate_launch_description" in functions


ARGUMENT_CASES = [
    ("reward_nodes", {}),
    ("reward_nodes", {"composed": "false"}),
    ("reward_nodes", {"regions": "fingertip:300,200,330,230;cube:400,260,460,320", "pair": "fingertip,cube",
                      "debug_image": "true", "metric": "centroid"}),
    ("reward_nodes", {"use_depth_estimation": "true", "depth_model": "/models/depth-anything-v2-metric"}),
    ("spatial_qa_nodes", {"backend": "spatialrgpt", "checkpoint": "/models/ckpt"}),
]


@pytest.mark.parametrize("function,args", ARGUMENT_CASES)
def test_planned_nodes_exist_and_parameters_are_declared(function, args):
    plans = getattr(launch_plan, function)(args)
    executables = _cmake_executables()
    for plan in plans:
        assert plan.executable in executables
        nodes = plan.nodes if plan.executable == CONTAINER else (plan.executable,)
        assert nodes and all(node in NODES for node in nodes)
        declared = [params_of(node) for node in nodes]
        for key, value in plan.parameters.items():
            readers = [params[key] for params in declared if key in params]
            assert readers, f"{plan.label} is given undeclared parameter {key!r}"
            for param in readers:  # every node of a container that declares it reads it
                param.validate(value)
                assert type(value) is type(param.default), (key, value)


def test_composed_launch_runs_reward_and_tracker_in_one_process():
    composed = launch_plan.reward_nodes({"regions": "fingertip:1,2,30,40", "debug_image": "true"})
    separate = launch_plan.reward_nodes({"regions": "fingertip:1,2,30,40", "debug_image": "true", "composed": "false"})
    assert [p.executable for p in composed] == [CONTAINER, "spatial_qa"]
    assert composed[0].nodes == ("reward", "tracker") and composed[0].name == ""
    assert [p.executable for p in separate] == ["reward", "tracker", "spatial_qa"]
    merged = {}
    for plan in separate[:2]:
        merged.update(plan.parameters)
    assert composed[0].parameters == merged
    command = launch_plan.node_command(composed[0], "python")
    assert command[3:7] == [CONTAINER, "reward", "tracker", "--ros-args"] and "__node:=" not in " ".join(command)


def test_a_container_refuses_conflicting_or_renamed_nodes():
    reward = launch_plan.NodePlan("reward", "rgpt_reward", {"debug_image": True})
    with pytest.raises(ValueError, match="debug_image"):
        launch_plan.container_plan([reward, launch_plan.NodePlan("tracker", "rgpt_tracker", {"debug_image": False})])
    with pytest.raises(ValueError, match="default names"):
        launch_plan.container_plan([reward, launch_plan.NodePlan("tracker", "my_tracker")])


def test_estimated_depth_feeds_the_reward_node():
    plans = {p.executable: p for p in launch_plan.reward_nodes({"use_depth_estimation": "true"})}
    assert plans["depth"].parameters["depth_topic"] == plans[CONTAINER].parameters["depth_topic"]
    assert plans["spatial_qa"].parameters["depth_topic"] == plans["depth"].parameters["depth_topic"]


def test_unknown_launch_argument_is_rejected():
    with pytest.raises(ValueError, match="unknown launch argument"):
        launch_plan.reward_nodes({"rgb_topics": "/x"})


def test_bad_values_fail_validation():
    with pytest.raises(ParameterError, match="pair"):
        params_of("reward")["pair"].validate(["cube", "cube"])
    with pytest.raises(ParameterError, match="metric"):
        params_of("reward")["metric"].validate("manhattan")
    with pytest.raises(ParameterError, match="regions"):
        params_of("tracker")["regions"].validate(["fingertip:1,2,3"])


def test_config_file_is_generated_from_the_parameter_tables():
    committed = (ROOT / "config" / "reward.yaml").read_text()
    assert committed == render_config(), "config/reward.yaml is stale: python -m rgpt_ros.ros.config_file > config/reward.yaml"
    data = yaml.safe_load(committed)
    for node, ros_name in NODE_NAMES.items():
        values = data[ros_name]["ros__parameters"]
        declared = params_of(node)
        assert set(values) == set(declared)
        for key, value in values.items():
            assert value == declared[key].default
            if key != "model":  # the depth node's checkpoint has no usable default: it must be given
                declared[key].validate(value)


def test_launch_testing_runs_where_launch_ros_exists():
    launch_ros = pytest.importorskip("launch_ros", reason="launch_ros is not available from the PyPI wheels")
    import launch

    from launch.launch_description_sources import PythonLaunchDescriptionSource

    source = PythonLaunchDescriptionSource(str(ROOT / "launch" / "reward.launch.py"))
    description = source.get_launch_description(launch.LaunchContext())
    assert description.entities and launch_ros is not None
