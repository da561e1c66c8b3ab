"""Thin rclpy adapters over the ROS-free core: message conversions, QoS, parameters and nodes.

Only the node modules import rclpy; ``parameters`` is ROS-free so launch files and configs can be
checked without a ROS install.
"""
