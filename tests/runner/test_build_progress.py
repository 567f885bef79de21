"""Environment build progress in words: the installer's step, and last build's time."""

from __future__ import annotations

import pathlib

from foretell.runner.build_progress import BuildTimes, current_step, duration

PIP = """\
Collecting llama-cpp-python==0.3.36
  Downloading llama_cpp_python-0.3.36.tar.gz (50.0 MB)
  Installing build dependencies: started
Collecting numpy>=1.20.0
  Downloading numpy-2.3.0-cp311-cp311-manylinux_2_28_x86_64.whl (16.9 MB)
Building wheels for collected packages: llama-cpp-python
  Building wheel for llama-cpp-python (pyproject.toml): started
"""


def test_pip_steps_are_named() -> None:
    """Resolving, downloading, compiling a named package, installing: from pip's output."""
    assert current_step("Collecting numpy\n") == "resolving packages"
    assert current_step("Collecting numpy\n  Downloading numpy.whl (16 MB)\n") == (
        "downloading packages"
    )
    assert current_step(PIP) == "compiling llama-cpp-python"
    done = PIP + "Installing collected packages: numpy, llama-cpp-python\n"
    assert current_step(done) == "installing"
    assert current_step("") is None


def test_uv_steps_are_named() -> None:
    """uv's lines map to the same steps."""
    assert current_step("Resolved 12 packages in 1.2s\n") == "resolving packages"
    assert current_step("Resolved 12 packages\n   Building llama-cpp-python==0.3.36\n") == (
        "compiling llama-cpp-python"
    )


def test_build_times_remember_the_last_build(tmp_path: pathlib.Path) -> None:
    """A finished build's time is what the next build of that model expects."""
    times = BuildTimes(tmp_path / "build-times.json")
    assert times.last("text-generate") is None
    times.record("text-generate", 281.4)
    assert BuildTimes(tmp_path / "build-times.json").last("text-generate") == 281.4
    assert duration(281.4) == "4 min 41 s" and duration(9) == "9 s"
