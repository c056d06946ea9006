#!/usr/bin/env python3
"""Launch a distributed job: MXNet 1.x's tools/launch.py, same options.

    python tools/launch.py -n 2 python train.py --kv-store dist_sync

The launcher is python/mixnet/tools/launch.py (``python -m mixnet.tools.launch`` is the same
tool; its docstring lists the options). This script loads that file directly, so launching does
not load the mixnet library into the launcher process.
"""
import importlib.util
import os
import sys

_LAUNCH = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "python", "mixnet",
                       "tools", "launch.py")

if __name__ == "__main__":
    spec = importlib.util.spec_from_file_location("mixnet_launch", _LAUNCH)
    launch = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(launch)
    sys.exit(launch.main())
