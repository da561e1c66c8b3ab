"""Generated reaching episodes: a fingertip moving near a cube on a textured table, with ground truth.

Kinds:
- "straight":      minimum-jerk approach from ~15 cm to ~1 cm from the cube's side;
- "pause_retreat": approach (40 %), pause (20 %), retreat to the start (40 %);
- "curved":        approach along a curved path, with a same-coloured distractor cube elsewhere.

Frames are rendered lazily (``episode[i]`` or iteration); ``episode.distances()`` gives the analytic
truth for all frames without rendering. Noise of frame i uses ``default_rng([seed, i])``, so any
frame can be rendered alone and is reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Optional

import numpy as np

from rgpt_ros.frame import RGBDFrame
from rgpt_ros.geometry.camera import CameraIntrinsics
from rgpt_ros.geometry.regions import Region
from rgpt_ros.synthetic.noise import add_image_noise, add_sensor_noise
from rgpt_ros.synthetic.render import CameraPose, Scene, d435_intrinsics, render
from rgpt_ros.synthetic.shapes import Box, Plane, Sphere
from rgpt_ros.synthetic.textures import noise_texture, wood_texture

KINDS = ("straight", "pause_retreat", "curved")
FINGERTIP, CUBE = "fingertip", "cube"
_T0_NS = 1_700_000_000_000_000_000


def box_point_distance(box: Box, points: np.ndarray) -> np.ndarray:
    """Euclidean distance from (N, 3) world points to the solid box (0 inside)."""
    local = (np.asarray(points, np.float64) - box.centre) @ box.rotation
    excess = np.maximum(np.abs(local) - box.size / 2.0, 0.0)
    return np.linalg.norm(excess, axis=1)


def _min_jerk(tau: np.ndarray) -> np.ndarray:
    tau = np.clip(tau, 0.0, 1.0)
    return tau ** 3 * (10 - 15 * tau + 6 * tau ** 2)


@dataclass
class EpisodeFrame:
    """One rendered step: noisy images plus exact truth (distances in metres, boxes in pixels,
    x2/y2 exclusive, None when the object is not visible)."""

    index: int
    rgb: np.ndarray
    depth: np.ndarray
    camera: CameraIntrinsics
    stamp_ns: int
    up: np.ndarray
    distance: float
    centroid_distance: float
    boxes: dict[str, Optional[tuple[int, int, int, int]]]
    clean_depth: np.ndarray = field(repr=False, default=None)

    def rgbd(self, with_up: bool = True) -> RGBDFrame:
        """As an ``RGBDFrame`` (own copies of the images); ``with_up=False`` leaves gravity to be estimated."""
        return RGBDFrame(self.rgb.copy(), self.depth.copy(), self.camera, self.stamp_ns,
                         self.up.copy() if with_up else None, "camera_color_optical_frame")

    def regions(self) -> list[Region]:
        """The visible objects' true boxes as region prompts (fingertip first)."""
        return [Region(id=name, box=box) for name, box in self.boxes.items() if box is not None]


@dataclass
class Episode:
    """A reaching episode; index or iterate it to render frames."""

    kind: str
    static_objects: list
    tip_positions: np.ndarray
    tip_radius: float
    tip_colour: tuple
    pose: CameraPose
    plane: Plane
    camera: CameraIntrinsics
    seed: int
    fps: float = 30.0
    noisy: bool = True
    occluded: tuple = ()

    def __len__(self) -> int:
        return len(self.tip_positions)

    def __iter__(self) -> Iterator[EpisodeFrame]:
        return (self[i] for i in range(len(self)))

    @property
    def cube(self) -> Box:
        return self.static_objects[0]

    def stamp_ns(self, i: int) -> int:
        return _T0_NS + int(round(i * 1e9 / self.fps))

    def distances(self) -> np.ndarray:
        """Closest-surface fingertip-to-cube distance per frame (metres, analytic)."""
        return box_point_distance(self.cube, self.tip_positions) - self.tip_radius

    def centroid_distances(self) -> np.ndarray:
        return np.linalg.norm(self.tip_positions - self.cube.centre, axis=1)

    def scene(self, i: int) -> Scene:
        tip = self.tip_positions[i]
        objects = [*self.static_objects, Sphere(tip, self.tip_radius, colour=self.tip_colour, name=FINGERTIP)]
        if i in self.occluded:  # a grey card between the camera and the fingertip
            cam = np.asarray(self.pose.position)
            card = tip + 0.35 * (cam - tip)
            objects.append(Box(card, (0.07, 0.07, 0.07), colour=(120, 120, 125), name="occluder"))
        return Scene(objects, plane=self.plane)

    def __getitem__(self, i: int) -> EpisodeFrame:
        if not -len(self) <= i < len(self):
            raise IndexError(f"frame {i} out of range for an episode of {len(self)} frames")
        i %= len(self)
        frame = render(self.scene(i), self.pose, self.camera)
        rng = np.random.default_rng([self.seed, i])
        depth = add_sensor_noise(frame.depth, rng) if self.noisy else frame.depth
        rgb = add_image_noise(frame.rgb, rng) if self.noisy else frame.rgb
        boxes = {FINGERTIP: frame.visible_box(FINGERTIP), CUBE: frame.visible_box(CUBE)}
        return EpisodeFrame(i, rgb, depth, self.camera, self.stamp_ns(i), frame.up, float(self.distances()[i]),
                            float(self.centroid_distances()[i]), boxes, frame.depth)


def _path(kind: str, start: np.ndarray, end: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    tau = np.linspace(0.0, 1.0, n)
    if kind == "straight":
        return start + _min_jerk(tau)[:, None] * (end - start)
    if kind == "pause_retreat":
        out = np.empty((n, 3))
        go, back = _min_jerk(tau / 0.4), _min_jerk((tau - 0.6) / 0.4)
        out[:] = start + go[:, None] * (end - start)
        late = tau > 0.6
        out[late] = end + back[late, None] * (start - end)
        return out
    if kind == "curved":
        side = np.cross(end - start, [0.0, 1.0, 0.0])
        side /= np.linalg.norm(side)
        control = (start + end) / 2 + side * rng.choice([-1, 1]) * rng.uniform(0.08, 0.14) + [0, 0.04, 0]
        s = _min_jerk(tau)[:, None]
        return (1 - s) ** 2 * start + 2 * s * (1 - s) * control + s ** 2 * end
    raise ValueError(f"unknown episode kind {kind!r}; choose one of {KINDS}")


def make_episode(kind: str = "straight", n_frames: int = 60, seed: int = 0, width: int = 640, height: int = 480,
                 fps: float = 30.0, noisy: bool = True, cube_size: float = 0.05, tip_radius: float = 0.01,
                 final_gap: float = 0.01, occlude: Optional[tuple[int, int]] = None) -> Episode:
    """A seeded reaching episode. ``occlude=(first, last)`` hides the fingertip behind a card on those
    frames (inclusive), for tracker recovery tests."""
    if kind not in KINDS:
        raise ValueError(f"unknown episode kind {kind!r}; choose one of {KINDS}")
    if n_frames < 2:
        raise ValueError(f"n_frames must be >= 2, got {n_frames}")
    if not (0 < tip_radius < 0.1 and 0 < cube_size < 0.5 and final_gap >= 0):
        raise ValueError(f"bad sizes: tip_radius={tip_radius}, cube_size={cube_size}, final_gap={final_gap}")
    rng = np.random.default_rng(seed)
    cube = Box((0.0, cube_size / 2, -0.55), (cube_size,) * 3, yaw_deg=float(rng.uniform(-25, 25)),
               colour=(200, 50, 40), texture=noise_texture(seed % 7, (200, 50, 40), 0.12), name=CUBE)
    objects: list = [cube]
    if kind == "curved":
        dx = rng.choice([-1, 1]) * rng.uniform(0.16, 0.22)
        objects.append(Box((dx, cube_size / 2, -0.5 - rng.uniform(0.0, 0.1)), (cube_size,) * 3,
                           yaw_deg=float(rng.uniform(-30, 30)), colour=(200, 50, 40),
                           texture=noise_texture(seed % 7 + 1, (200, 50, 40), 0.12), name="distractor"))
    # approach from the side (mostly lateral so the motion is visible), ending final_gap from a face, starting 13-18 cm away
    azimuth = np.deg2rad(rng.uniform(-40, 40) + rng.choice([0, 180]))
    local_dir = np.array([np.cos(azimuth), 0.0, np.sin(azimuth)])
    height_end = rng.uniform(0.4, 0.8) * cube_size
    major = int(np.argmax(np.abs(local_dir)))
    end_local = np.clip(local_dir / np.abs(local_dir[major]) * cube_size / 2, -0.4 * cube_size, 0.4 * cube_size)
    end_local[major] = np.sign(local_dir[major]) * (cube_size / 2 + tip_radius + final_gap)
    end = cube.centre + end_local @ cube.rotation.T
    end[1] = height_end
    start = end + (end_local / np.linalg.norm(end_local)) @ cube.rotation.T * rng.uniform(0.13, 0.18)
    start[1] = rng.uniform(0.05, 0.09)
    tips = _path(kind, start, end, n_frames, rng)
    pitch = rng.uniform(35, 45)
    dist = rng.uniform(0.5, 0.6)
    target = cube.centre + [rng.uniform(-0.03, 0.03), 0.0, 0.0]
    yaw = np.deg2rad(rng.uniform(-10, 10))
    horiz = dist * np.cos(np.deg2rad(pitch))
    position = target + np.array([np.sin(yaw) * horiz, dist * np.sin(np.deg2rad(pitch)), np.cos(yaw) * horiz])
    pose = CameraPose.look_at(position, target)
    plane = Plane.horizontal(0.0, texture=wood_texture(seed % 5))
    occluded = tuple(range(occlude[0], occlude[1] + 1)) if occlude else ()
    return Episode(kind, objects, tips, float(tip_radius), (60, 215, 90), pose, plane, d435_intrinsics(width, height),
                   seed, fps, noisy, occluded)
