"""`python -m foretell.worker`: the model process the runner spawns (never forks)."""

from __future__ import annotations

import argparse
import os
import pathlib
import sys

from foretell.worker.loop import serve


def main() -> int:
    """Parse the runner's arguments and serve the model."""
    parser = argparse.ArgumentParser(prog="python -m foretell.worker")
    parser.add_argument("--root", required=True, type=pathlib.Path, help="model directory")
    parser.add_argument("--ref", required=True, help='e.g. "predict.py:Predictor"')
    parser.add_argument("--fd", required=True, type=int, help="data socket to the runner")
    parser.add_argument(
        "--control-fd", required=True, type=int, help="socket the runner sends cancels on"
    )
    parser.add_argument("--scratch", required=True, type=pathlib.Path, help="temp dir root")
    parser.add_argument(
        "--mode",
        choices=("predict", "train"),
        default="predict",
        help="train: --ref is cog.yaml's `train:`, and each request runs train()",
    )
    args = parser.parse_args()
    os.chdir(args.root)
    fds = (args.fd, args.control_fd)
    return serve(args.root.resolve(), args.ref, fds, args.scratch, mode=args.mode)


if __name__ == "__main__":
    sys.exit(main())
