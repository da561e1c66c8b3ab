# rgpt_ros developer entry points. `make demo` and `make test` set everything up by themselves.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
# DDS traffic stays on this machine; a per-run domain keeps parallel runs apart.
export ROS_AUTOMATIC_DISCOVERY_RANGE ?= LOCALHOST
export ROS_DOMAIN_ID ?= $(shell echo $$(( $$$$ % 90 + 5 )))
export PYTHONUNBUFFERED := 1
# 640x480 RGB-D does not fit Fast DDS's default 512 KiB shared-memory segment (see the file).
export FASTDDS_DEFAULT_PROFILES_FILE ?= $(CURDIR)/config/fastdds_large_images.xml
ROS_SOURCE := source install/setup.bash

.PHONY: help setup build test test-fast demo bench clean distclean

help:
	@echo "make setup   - create .venv (ROS 2 Kilted wheels + pinned deps) and colcon-build rgpt_ros into install/"
	@echo "make test    - setup, then run the whole test suite (what CI runs)"
	@echo "make demo    - setup, then run the main job on a generated reaching episode over DDS"
	@echo "make bench   - setup, then run every benchmark script in bench/"
	@echo "make clean   - remove build/, install/, log/ (keeps .venv)"

setup:
	@bash scripts/setup_env.sh

build: setup

test: setup
	@$(ROS_SOURCE) && RGPT_REQUIRE_ROS=1 $(PY) -m pytest test -q -p no:cacheprovider $(PYTEST_ARGS)

demo: setup
	@$(ROS_SOURCE) && $(PY) -m rgpt_ros.cli.demo $(DEMO_ARGS)

bench: setup
	@$(ROS_SOURCE) && for script in bench/bench_*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf build install log

distclean: clean
	rm -rf $(VENV)
