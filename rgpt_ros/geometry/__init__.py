"""Metric 3D geometry of image regions from depth + intrinsics (ROS-free)."""
