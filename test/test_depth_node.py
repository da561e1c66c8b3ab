"""The depth node with real rclpy (Fast DDS): colour in, 32FC1 depth out with the colour header."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

rclpy = pytest.importorskip("rclpy")
from rclpy.parameter import Parameter  # noqa: E402
from ros_helpers import spin_until  # noqa: E402

from rgpt_ros.depth import DepthEstimator  # noqa: E402
from rgpt_ros.depth.configs import write_random_depth_checkpoint  # noqa: E402


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("depth_node")
    return {"metric": write_random_depth_checkpoint(root / "metric", metric=True, seed=9),
            "relative": write_random_depth_checkpoint(root / "relative", metric=False, seed=10)}


@pytest.fixture
def context():
    ctx = rclpy.Context()
    rclpy.init(context=ctx)
    yield ctx
    ctx.try_shutdown()


def _run(context, checkpoint, out_topic_of, **params):
    """Start DepthNode + a test node, publish one bgr8 image until depth arrives; return (node, sent, received)."""
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node
    from sensor_msgs.msg import Image

    from rgpt_ros.imaging import numpy_to_image_fields
    from rgpt_ros.ros.depth_node import DepthNode
    from rgpt_ros.ros.qos import RELIABLE_OUTPUT_QOS, SENSOR_QOS

    prefix = f"/depth_{uuid.uuid4().hex[:8]}"
    overrides = [Parameter("rgb_topic", value=f"{prefix}/color"), Parameter("depth_topic", value=f"{prefix}/depth"),
                 Parameter("model", value=str(checkpoint)), Parameter("device", value="cpu")]
    overrides += [Parameter(k, value=v) for k, v in params.items()]
    depth_node = DepthNode(context=context, parameter_overrides=overrides, namespace=prefix)
    tester = Node("depth_tester", context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(depth_node)
    executor.add_node(tester)
    received: list = []
    tester.create_subscription(Image, out_topic_of(prefix), received.append, RELIABLE_OUTPUT_QOS)
    publisher = tester.create_publisher(Image, f"{prefix}/color", SENSOR_QOS)
    rgb = np.zeros((42, 56, 3), np.uint8)
    rgb[:, :28] = (220, 40, 10)
    rgb[10:30, 30:50] = (10, 200, 90)
    msg = Image(**numpy_to_image_fields(np.ascontiguousarray(rgb[..., ::-1]), "bgr8", as_bytes=True))
    msg.header.frame_id = "camera_color_optical_frame"
    msg.header.stamp.sec, msg.header.stamp.nanosec = 1234, 5678
    for _ in range(60):
        publisher.publish(msg)
        if spin_until(executor, lambda: bool(received), 0.25):
            break
    executor.shutdown()
    return depth_node, rgb, received


def test_metric_model_publishes_metres_on_depth_topic(context, checkpoints):
    node, rgb, received = _run(context, checkpoints["metric"], lambda p: f"{p}/depth", input_size=56,
                               backend="torch-eager")
    assert received, "no depth image arrived"
    out = received[0]
    assert out.encoding == "32FC1" and (out.height, out.width) == (42, 56)
    assert out.header.frame_id == "camera_color_optical_frame"
    assert (out.header.stamp.sec, out.header.stamp.nanosec) == (1234, 5678)
    depth = np.frombuffer(bytes(out.data), np.float32).reshape(42, 56)
    expected = DepthEstimator.from_pretrained(checkpoints["metric"], input_size=56).predict(rgb).depth
    np.testing.assert_allclose(depth, expected, rtol=1e-5, atol=1e-5)  # bgr8 was read as RGB correctly
    node.destroy_node()


def test_relative_model_publishes_on_its_own_topic(context, checkpoints):
    node, _, received = _run(context, checkpoints["relative"], lambda p: f"{p}/rgpt_depth/relative_depth",
                             input_size=0, backend="auto")
    assert received and received[0].encoding == "32FC1"
    assert node.publisher.topic_name.endswith("/rgpt_depth/relative_depth")
    assert node.estimator.runner is None  # input_size 0: keep-aspect preprocessing, eager only
    node.destroy_node()


def test_accelerated_node_runs_on_onnxruntime(context, checkpoints, tmp_path):
    node, _, received = _run(context, checkpoints["metric"], lambda p: f"{p}/depth", input_size=56,
                             backend="ort-cpu", cache_dir=str(tmp_path))
    assert received and node.estimator.runner.provider == "ort:CPUExecutionProvider"
    node.destroy_node()


@pytest.mark.parametrize("params, message", [
    ({"model": ""}, "'model'"),
    ({"model": "/no/such/depth/model"}, "does not exist"),
    ({"input_size": 0, "backend": "ort-cpu"}, "needs input_size"),
    ({"input_size": 50}, "multiple of 14"),
])
def test_bad_parameters_are_reported(context, checkpoints, params, message):
    from rgpt_ros.ros.depth_node import DepthNode
    from rgpt_ros.ros.parameters import ParameterError

    values = {"model": str(checkpoints["metric"]), "device": "cpu", **params}
    with pytest.raises(ParameterError, match=message):
        DepthNode(context=context, parameter_overrides=[Parameter(k, value=v) for k, v in values.items()])
