"""Synthetic renderer and sensor-noise speed (numpy, one process).

Usage: .venv/bin/python bench/bench_render.py [--repeats 15]
Prints median milliseconds per frame (wall clock, and process CPU time in brackets, which is less
affected by other processes on a busy machine) for scenes with 0, 2 and 6 objects (+ back wall) at
320x240 and 640x480, and for the sensor/image noise models.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from rgpt_ros.synthetic import (Box, Capsule, CameraPose, Plane, Scene, Sphere, add_image_noise, add_sensor_noise,
                                d435_intrinsics, noise_texture, render, wood_texture)


def _scene(n_objects: int) -> Scene:
    objects = [Box((0.0, 0.025, -0.6), (0.05, 0.05, 0.05), yaw_deg=30, texture=noise_texture(1, (200, 60, 40))),
               Sphere((0.05, 0.06, -0.55), 0.01),
               Box((0.2, 0.05, -0.8), (0.1, 0.1, 0.1), colour=(40, 60, 200)),
               Box((-0.2, 0.1, -0.9), (0.15, 0.2, 0.1), yaw_deg=-20, colour=(200, 200, 40)),
               Box((-0.1, 0.03, -0.5), (0.06, 0.06, 0.06)),
               Capsule((0.1, 0.06, -0.5), (0.15, 0.1, -0.45), 0.01)][:n_objects]
    return Scene(objects, plane=Plane.horizontal(0.0, texture=wood_texture()),
                 wall=Plane.wall(-2.0, texture=noise_texture(2, (180, 180, 170))))


def _median_ms(fn, repeats: int) -> str:
    fn()  # warm caches (textures, ray tables)
    wall, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return f"{1000.0 * np.median(wall):7.1f} ({1000.0 * np.median(cpu):5.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    pose = CameraPose.look_at((0.0, 0.45, 0.0), (0.0, 0.0, -0.6))
    print(f"{'case':34s} {'320x240 ms (cpu)':>16s} {'640x480 ms (cpu)':>16s}")
    for n in (0, 2, 6):
        cells = [_median_ms(lambda: render(_scene(n), pose, d435_intrinsics(w, h)), args.repeats)
                 for w, h in ((320, 240), (640, 480))]
        print(f"{f'render, plane + wall + {n} objects':34s} {cells[0]:>16s} {cells[1]:>16s}")
    rng = np.random.default_rng(0)
    for name, fn in (("add_sensor_noise (depth)", lambda f: add_sensor_noise(f.depth, rng)),
                     ("add_image_noise (rgb)", lambda f: add_image_noise(f.rgb, rng))):
        cells = []
        for w, h in ((320, 240), (640, 480)):
            frame = render(_scene(6), pose, d435_intrinsics(w, h))
            cells.append(_median_ms(lambda: fn(frame), args.repeats))
        print(f"{name:34s} {cells[0]:>16s} {cells[1]:>16s}")


if __name__ == "__main__":
    main()
