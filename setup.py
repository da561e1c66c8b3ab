"""pip install of the rgpt_ros Python library and console scripts, for use without a ROS install.

ROS 2 users build the package with colcon instead (package.xml / CMakeLists.txt), which also
generates rgpt_ros.msg and rgpt_ros.srv.
"""

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent


def requirements() -> list[str]:
    lines = (HERE / "requirements.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


setup(
    name="rgpt_ros",
    version="0.1.0",
    description="Region-aware spatial answers and dense rewards for robot learning (SpatialRGPT + ROS 2)",
    long_description=(HERE / "README.md").read_text() if (HERE / "README.md").exists() else "",
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["rgpt_ros", "rgpt_ros.*"]),
    data_files=[
        ("share/rgpt_ros/msg", [str(p.relative_to(HERE)) for p in sorted((HERE / "msg").glob("*.msg"))]),
        ("share/rgpt_ros/srv", [str(p.relative_to(HERE)) for p in sorted((HERE / "srv").glob("*.srv"))]),
        ("share/rgpt_ros/config", [str(p.relative_to(HERE)) for p in sorted((HERE / "config").glob("*.*"))]),
    ],
    install_requires=requirements(),
    entry_points={
        "console_scripts": [
            "rgpt-bench = rgpt_ros.cli.bench:main",
            "rgpt-annotate = rgpt_ros.cli.annotate:main",
            "rgpt-export = rgpt_ros.cli.export:main",
            "rgpt-make-qa = rgpt_ros.cli.make_qa:main",
            "rgpt-train = rgpt_ros.cli.train:main",
            "rgpt-demo = rgpt_ros.cli.demo:main",
            "rgpt-synth-bench = rgpt_ros.synthetic.bench_scenes:main",
            "rgpt-tracker = rgpt_ros.ros.launcher:tracker_main",
            "rgpt-reward = rgpt_ros.ros.launcher:reward_main",
            "rgpt-spatial-qa = rgpt_ros.ros.launcher:spatial_qa_main",
            "rgpt-depth = rgpt_ros.ros.launcher:depth_main",
            "rgpt-container = rgpt_ros.ros.launcher:container_main",
        ],
    },
)
