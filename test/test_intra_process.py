"""The container's intra-process bus over real rclpy / Fast DDS: in-process topics, shared image readers,
DDS for everything else, and the container executable's command line."""

from __future__ import annotations

import uuid

import numpy as np
import pytest
from ros_helpers import observer, ros_context, spin_until  # noqa: F401
from test_ros_inputs import _image

pytestmark = pytest.mark.ros


def _nodes(context, count: int):
    from rclpy.node import Node

    return [Node(f"bus_test_{i}_{uuid.uuid4().hex[:6]}", context=context) for i in range(count)]


def test_a_topic_published_in_the_container_reaches_its_nodes_in_process_and_others_over_dds(ros_context):
    from std_msgs.msg import String

    from rgpt_ros.ros.intra_process import IntraProcessBus
    from rgpt_ros.ros.qos import RELIABLE_OUTPUT_QOS

    topic = f"/bus_{uuid.uuid4().hex[:8]}"
    bus = IntraProcessBus()
    with observer(ros_context, "bus_outside") as (outside, executor):
        publisher_node, receiver_node = _nodes(ros_context, 2)
        executor.add_node(publisher_node)
        executor.add_node(receiver_node)
        local, remote = [], []
        bus.subscribe(receiver_node, String, topic, local.append, RELIABLE_OUTPUT_QOS)
        publisher = bus.publisher(publisher_node, String, topic, RELIABLE_OUTPUT_QOS)
        assert bus.connect() == {topic: "in-process"}
        outside.create_subscription(String, topic, remote.append, RELIABLE_OUTPUT_QOS)
        assert spin_until(executor, lambda: publisher.dds.get_subscription_count() == 1, 10.0), \
            "only the outside node reads the topic over DDS"
        sent = [String(data=str(i)) for i in range(3)]
        for msg in sent:
            publisher.publish(msg)
            assert local[-1] is msg, "delivered in-process, synchronously, as the same object"
        assert spin_until(executor, lambda: len(remote) == 3, 10.0)
        assert [m.data for m in remote] == ["0", "1", "2"] and len(local) == 3
        for node in (publisher_node, receiver_node):
            node.destroy_node()


def test_image_subscriptions_of_a_container_share_one_reader(ros_context):
    from sensor_msgs.msg import Image

    from rgpt_ros.ros.intra_process import IntraProcessBus
    from rgpt_ros.ros.qos import RELIABLE_OUTPUT_QOS

    topic, other = f"/img_{uuid.uuid4().hex[:8]}", f"/other_{uuid.uuid4().hex[:8]}"
    bus = IntraProcessBus()
    with observer(ros_context, "bus_camera") as (camera, executor):
        first, second = _nodes(ros_context, 2)
        executor.add_node(first)
        executor.add_node(second)
        order = []
        bus.subscribe(first, Image, topic, lambda m: order.append(("first", m)), RELIABLE_OUTPUT_QOS, image=True)
        bus.subscribe(second, Image, topic, lambda m: order.append(("second", m)), RELIABLE_OUTPUT_QOS, image=True)
        plain = []
        bus.subscribe(second, Image, other, plain.append, RELIABLE_OUTPUT_QOS)  # nobody here publishes it: DDS
        served = bus.connect()
        assert served == {topic: "DDS, one reader for 2 node(s)", other: "DDS"}
        publisher = camera.create_publisher(Image, topic, RELIABLE_OUTPUT_QOS)
        other_publisher = camera.create_publisher(Image, other, RELIABLE_OUTPUT_QOS)
        assert spin_until(executor, lambda: publisher.get_subscription_count() == 1
                          and other_publisher.get_subscription_count() == 1, 10.0)
        publisher.publish(_image(np.full((4, 5, 3), 9, np.uint8), "rgb8"))
        other_publisher.publish(_image(np.zeros((2, 3), np.uint16), "16UC1"))
        assert spin_until(executor, lambda: len(order) == 2 and len(plain) == 1, 10.0)
        assert [who for who, _ in order] == ["first", "second"], "in the order the nodes subscribed"
        assert order[0][1] is order[1][1], "taken and decoded once"
        assert order[0][1].width == 5 and plain[0].encoding == "16UC1"
        for node in (first, second):
            node.destroy_node()


def test_a_failing_node_does_not_starve_the_others(ros_context):
    from std_msgs.msg import String

    from rgpt_ros.ros.intra_process import IntraProcessBus
    from rgpt_ros.ros.qos import RELIABLE_OUTPUT_QOS

    topic = f"/fail_{uuid.uuid4().hex[:8]}"
    publisher_node, broken_node, healthy_node = _nodes(ros_context, 3)
    bus = IntraProcessBus()
    received = []

    def broken(msg):
        raise ZeroDivisionError(msg.data)

    bus.subscribe(broken_node, String, topic, broken, RELIABLE_OUTPUT_QOS)
    bus.subscribe(healthy_node, String, topic, received.append, RELIABLE_OUTPUT_QOS)
    publisher = bus.publisher(publisher_node, String, topic, RELIABLE_OUTPUT_QOS)
    bus.connect()
    for i in range(3):
        publisher.publish(String(data=str(i)))  # raises nothing
    assert [m.data for m in received] == ["0", "1", "2"]
    for node in (publisher_node, broken_node, healthy_node):
        node.destroy_node()


def test_the_bus_is_wired_once(ros_context):
    from std_msgs.msg import String

    from rgpt_ros.ros.intra_process import IntraProcessBus
    from rgpt_ros.ros.qos import RELIABLE_OUTPUT_QOS

    (node,) = _nodes(ros_context, 1)
    bus = IntraProcessBus()
    bus.connect()
    with pytest.raises(RuntimeError, match="already connected"):
        bus.publisher(node, String, "/late", RELIABLE_OUTPUT_QOS)
    with pytest.raises(RuntimeError, match="already connected"):
        bus.subscribe(node, String, "/late", print, RELIABLE_OUTPUT_QOS)
    node.destroy_node()


@pytest.mark.parametrize("argv, names", [(["container", "reward", "tracker", "--ros-args", "-p", "x:=1"],
                                          ["reward", "tracker"]),
                                         (["/lib/rgpt_ros/container", "tracker"], ["tracker"])])
def test_container_takes_its_nodes_from_the_command_line(argv, names):
    from rgpt_ros.ros.launcher import container_node_names

    assert container_node_names(argv[1:]) == names


@pytest.mark.parametrize("names", [[], ["tracker", "tracker"], ["tracker", "slam"]])
def test_container_refuses_bad_node_lists(names, capsys):
    from rgpt_ros.ros.launcher import run_nodes

    assert run_nodes(names, ["container"]) == 2
    assert "give distinct names" in capsys.readouterr().err


def test_container_refuses_nodes_that_cannot_share_it(capsys):
    from ros_helpers import require_ros

    from rgpt_ros.ros.launcher import run_nodes

    require_ros()
    assert run_nodes(["tracker", "spatial_qa"], ["container"]) == 2
    err = capsys.readouterr().err
    assert "['spatial_qa'] cannot share a container" in err and "['reward', 'tracker']" in err
