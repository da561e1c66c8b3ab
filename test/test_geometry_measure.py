"""Distances, relations and clock directions on clouds with known geometry."""

import numpy as np
import pytest

from rgpt_ros.geometry import measure
from rgpt_ros.geometry.pointcloud import cloud_from_points


def _box_surface(centre, size, n=12):
    """Points on the faces of an axis-aligned box (canonical frame)."""
    c, s = np.asarray(centre, float), np.asarray(size, float)
    g = np.linspace(-0.5, 0.5, n)
    a, b = np.meshgrid(g, g)
    a, b = a.ravel(), b.ravel()
    faces = []
    for axis in range(3):
        for sign in (-0.5, 0.5):
            p = np.zeros((a.size, 3))
            others = [k for k in range(3) if k != axis]
            p[:, axis] = sign
            p[:, others[0]], p[:, others[1]] = a, b
            faces.append(p)
    return c + np.concatenate(faces) * s


A = cloud_from_points(_box_surface((-0.5, 0.2, 2.0), (0.2, 0.4, 0.2)), "a")  # left, tall, near
B = cloud_from_points(_box_surface((0.5, 0.1, 3.0), (0.6, 0.2, 0.6)), "b")  # right, low, far, wide, big


def test_distances():
    assert measure.distance(A, B, "centroid") == pytest.approx(np.linalg.norm([1.0, 0.1, 1.0]), rel=1e-5)
    # nearest faces: A's corner region (-0.4, ., 2.1) to B's (0.2, ., 2.7): gap along x 0.6 and z 0.6
    assert measure.distance(A, B, "closest") == pytest.approx(np.hypot(0.6, 0.6), abs=0.04)
    mean_nn = measure.distance(A, B, "mean_nn")
    assert measure.distance(A, B, "closest") < mean_nn < measure.distance(A, B, "centroid") + 0.5
    assert measure.distance(A, B) == measure.distance(A, B, "closest")  # the surface gap is the default
    assert measure.distance(A, A, "closest") == pytest.approx(0.0)
    with pytest.raises(ValueError, match="unknown distance metric 'manhattan'"):
        measure.distance(A, B, "manhattan")


def test_axis_distances_and_sizes():
    assert measure.horizontal_distance(A, B) == pytest.approx(1.0, abs=0.01)
    assert measure.vertical_distance(A, B) == pytest.approx(0.1, abs=0.01)
    assert measure.width(A) == pytest.approx(0.2, abs=0.01) and measure.height(A) == pytest.approx(0.4, abs=0.01)
    assert measure.volume(B) == pytest.approx(0.6 * 0.2 * 0.6, rel=0.05)


def test_relations():
    rel = measure.relations(A, B)
    assert rel == {"left": True, "right": False, "above": True, "below": False, "behind": False, "front": True,
                   "tall": True, "short": False, "wide": False, "thin": True, "big": False, "small": True}
    assert measure.relations(B, A) == {k: not v for k, v in rel.items()}
    assert measure.holds("left", A, B) and measure.choose("right", A, B) == 1
    with pytest.raises(ValueError, match="unknown relation 'inside'"):
        measure.holds("inside", A, B)


@pytest.mark.parametrize("vector, hour", [((0, 0, 1), 12), ((1, 0, 0), 3), ((0, 0, -1), 6), ((-1, 0, 0), 9),
                                           ((1, 5, 1.732), 1), ((-1, 0, 1), 10), ((0.26, 0, 1), 12)])
def test_clock_hours(vector, hour):
    assert measure.clock_hour(np.array(vector, float)) == hour


def test_clock_direction_between_regions():
    c = cloud_from_points(_box_surface((-0.5 + 1.732, 0.2, 3.0), (0.2, 0.2, 0.2)), "c")  # 60 deg right of ahead
    assert measure.clock_direction(A, c) == 2
    assert measure.clock_direction(c, A) == 8
