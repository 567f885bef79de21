"""Per-model Python environments built from cog.yaml's `build` section, without Docker.

A model that declares `build.python_packages` or `build.python_requirements` gets its own
virtualenv, cached by a hash of what it declares and the Python version, and its worker runs
in it. foretell's worker side is standard library only, so instead of installing foretell
into the model's environment, the directory holding the `foretell` and `cog` packages goes
on the worker's PYTHONPATH: the model's dependencies never meet the server's.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO

import foretell
from foretell.predictor.config import ModelConfig, load_config
from foretell.predictor.errors import PredictorLoadError
from foretell.runner.build_progress import BuildTimes, current_step, duration
from foretell.runner.spec import ModelSpec

Progress = Callable[[str], None]
_READY = ".foretell-ready"
#: how often a long install step reports that it is still running
HEARTBEAT_S = 15.0


class EnvironmentBuildError(RuntimeError):
    """The model's environment could not be built; the message has the installer's output."""


@dataclass(frozen=True)
class Environment:
    """Where a model runs: its interpreter and the extra environment variables it needs."""

    python: str
    env: dict[str, str]
    #: seconds spent building it now (0.0 when it was cached)
    built_in_s: float = 0.0


def default_cache_dir() -> pathlib.Path:
    """`$FORETELL_CACHE_DIR`, else `~/.cache/foretell`."""
    return pathlib.Path(
        os.environ.get("FORETELL_CACHE_DIR") or pathlib.Path.home() / ".cache" / "foretell"
    )


def package_root() -> pathlib.Path:
    """The directory that holds the `foretell` and `cog` packages."""
    return pathlib.Path(foretell.__file__).resolve().parent.parent


def requirements(config: ModelConfig) -> list[str]:
    """The requirement lines the model declares (packages, then its requirements file)."""
    lines = list(config.python_packages)
    if config.python_requirements:
        path = config.root / config.python_requirements
        if not path.is_file():
            raise EnvironmentBuildError(f"build.python_requirements: {path} does not exist")
        lines += [
            line.strip()
            for line in path.read_text().splitlines()
            if line.strip() and not line.strip().startswith("#")
        ]
    return lines


def environment_key(lines: list[str]) -> str:
    """Same requirements and Python version -> same environment."""
    text = "\n".join(sorted(lines)) + f"\npython {sys.version_info[0]}.{sys.version_info[1]}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def worker_path(cache_dir: pathlib.Path) -> pathlib.Path:
    """A directory with only `foretell` and `cog` in it (links), for the worker's PYTHONPATH:
    pointing at site-packages would hand the server's dependencies to the model.

    One per foretell installation (two checkouts share a cache), and each link is swapped in
    atomically, since several models are brought up at once.
    """
    root = package_root()
    tag = hashlib.sha256(str(root).encode()).hexdigest()[:12]
    target = cache_dir / "worker-path" / tag
    target.mkdir(parents=True, exist_ok=True)
    for name in ("foretell", "cog"):
        link, source = target / name, root / name
        if link.is_symlink() and link.resolve() == source:
            continue
        temporary = target / f".{name}.{os.getpid()}.{threading.get_ident()}"
        temporary.unlink(missing_ok=True)
        temporary.symlink_to(source, target_is_directory=True)
        os.replace(temporary, link)
    return target


def worker_environment(python: str, cache_dir: pathlib.Path) -> Environment:
    """How to run a worker with `python` and foretell's stdlib-only worker code."""
    return Environment(python, {"PYTHONPATH": str(worker_path(cache_dir))})


def prepare(
    config: ModelConfig, cache_dir: pathlib.Path | None = None, progress: Progress = print
) -> Environment:
    """The model's environment, built (once, under a lock) if it declares packages."""
    lines = requirements(config)
    if not lines:
        return Environment(sys.executable, {})
    cache = cache_dir or default_cache_dir()
    target = cache / "envs" / environment_key(lines)
    target.parent.mkdir(parents=True, exist_ok=True)
    with _locked(target.with_suffix(".lock")) as lock_fd:
        if (target / _READY).exists():
            return worker_environment(str(target / "bin" / "python"), cache)
        started = time.monotonic()
        times = BuildTimes(cache / "build-times.json")
        last = times.last(config.root.name)
        expected = f"; it took {duration(last)} last time" if last else ""
        progress(
            f"Creating the environment of {config.root.name}: {len(lines)} requirement(s)"
            f"{expected}…"
        )
        _build(target, lines, _Timed(progress, started, last), lock_fd)
        elapsed = time.monotonic() - started
        times.record(config.root.name, elapsed)
        progress(f"Environment of {config.root.name} ready in {duration(elapsed)} ({target})")
    env = worker_environment(str(target / "bin" / "python"), cache)
    return Environment(env.python, env.env, elapsed)


@contextlib.contextmanager
def _locked(path: pathlib.Path) -> Iterator[int]:
    """One builder per environment, across processes; yields the lock's descriptor."""
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield handle.fileno()
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _installer() -> list[str] | None:
    """uv if it is available (much faster), else None for pip."""
    beside = pathlib.Path(sys.executable).parent / "uv"
    found = shutil.which("uv") or (str(beside) if beside.exists() else None)
    return [found] if found else None


def _build(target: pathlib.Path, lines: list[str], progress: Progress, lock_fd: int) -> None:
    shutil.rmtree(target, ignore_errors=True)
    uv = _installer()
    python = str(target / "bin" / "python")
    if uv:
        steps = [
            [*uv, "venv", "--quiet", "--python", sys.executable, str(target)],
            [*uv, "pip", "install", "--python", python, *lines],
        ]
    else:
        steps = [
            [sys.executable, "-m", "venv", str(target)],
            [
                python,
                "-m",
                "pip",
                "install",
                "--progress-bar",
                "off",
                "--disable-pip-version-check",
                *lines,
            ],
        ]
    for step in steps:
        progress("  $ " + " ".join(step[:6]) + (" …" if len(step) > 6 else ""))
        code, output = _run_step(step, progress, lock_fd)
        if code != 0:
            shutil.rmtree(target, ignore_errors=True)
            raise EnvironmentBuildError(
                "installing the model's Python packages failed:\n"
                + "\n".join(output.strip().splitlines()[-15:])
            )
    (target / _READY).write_text("\n".join(lines))


class _Builds:
    """Installer processes in flight, so a server that shuts down can stop them (a thread
    can't be cancelled, and the interpreter would wait minutes for a compile to end)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running: set[subprocess.Popen[str]] = set()
        self.aborted = False

    def abort(self) -> None:
        with self.lock:
            self.aborted = True
            for process in self.running:
                _stop(process)


_builds = _Builds()


def _stop(process: subprocess.Popen[str]) -> None:
    """Terminate an installer and the builds it started (its own process group)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)


def abort_builds() -> None:
    """Stop every environment build in progress; they fail (and are rebuilt next time)."""
    _builds.abort()


def _run_step(step: list[str], progress: Progress, lock_fd: int) -> tuple[int, str]:
    """Run one installer step, saying every so often that it is still going (builds from
    source take minutes); returns its exit code and output.

    The installer inherits the environment's lock: if this process dies mid-build, the lock
    stays held until the orphaned installer ends, so no second build writes beside it.
    """
    started = time.monotonic()
    # append mode: the installer shares this file's offset, and reading it must not move
    # where the installer writes
    with tempfile.TemporaryFile("a+") as output:
        with _builds.lock:
            if _builds.aborted:
                return 1, "the server is shutting down"
            process = subprocess.Popen(
                step,
                stdout=output,
                stderr=subprocess.STDOUT,
                text=True,
                env=_build_env(),
                start_new_session=True,
                pass_fds=(lock_fd,),
            )
            _builds.running.add(process)
        try:
            code = _watch(process, output, progress, started)
        finally:
            with _builds.lock:
                _builds.running.discard(process)
            if process.poll() is None:  # interrupted (Ctrl-C in `foretell models prepare`)
                _stop(process)
        output.seek(0)
        return code, output.read()


def _watch(
    process: subprocess.Popen[str], output: IO[str], progress: Progress, started: float
) -> int:
    """Wait for the installer, reporting each new step at once and the current one every
    HEARTBEAT_S; returns its exit code."""
    said, said_at = None, time.monotonic()
    while True:
        try:
            return process.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            pass
        output.seek(0)
        step = current_step(output.read()) or "installing"
        now = time.monotonic()
        if step != said or now - said_at >= HEARTBEAT_S:
            progress(f"  … {step} ({duration(now - started)} in this step)")
            said, said_at = step, now


class _Timed:
    """Progress lines with the whole build's elapsed time and, if known, last time's."""

    def __init__(self, progress: Progress, started: float, last: float | None) -> None:
        self.progress, self.started, self.last = progress, started, last

    def __call__(self, line: str) -> None:
        elapsed = duration(time.monotonic() - self.started)
        expected = f" of about {duration(self.last)}" if self.last else ""
        self.progress(f"{line} [{elapsed}{expected}]" if line.startswith("  …") else line)


def _build_env() -> dict[str, str]:
    """Packages built from source (llama-cpp-python, …) use every core unless told otherwise."""
    cores = str(os.cpu_count() or 1)
    return {"CMAKE_BUILD_PARALLEL_LEVEL": cores, "MAKEFLAGS": f"-j{cores}", **os.environ}


def has_gpu() -> bool:
    """Whether an NVIDIA GPU is visible (device node or nvidia-smi)."""
    return pathlib.Path("/dev/nvidia0").exists() or shutil.which("nvidia-smi") is not None


def missing_system_packages(config: ModelConfig) -> list[str]:
    """Debian packages from build.system_packages that are not installed here."""
    dpkg = shutil.which("dpkg-query")
    if dpkg is None:  # not Debian: nothing to check against; setup() will tell
        return []
    missing = []
    for package in config.system_packages:
        result = subprocess.run(
            [dpkg, "-W", "-f=${Status}", package], capture_output=True, text=True
        )
        if "install ok installed" not in result.stdout:
            missing.append(package)
    return missing


def install_system_packages(config: ModelConfig, progress: Progress = print) -> None:
    """`apt-get install` the missing system packages, then run `build.run` (needs root)."""
    missing = missing_system_packages(config)
    commands = []
    if missing:
        commands += ["apt-get update -qq", "apt-get install -y -qq " + " ".join(missing)]
    commands += list(config.build_run)
    for command in commands:
        progress(f"  $ {command}")
        result = subprocess.run(command, shell=True, cwd=config.root)  # noqa: S602 — the model's own build commands, run on request
        if result.returncode != 0:
            raise EnvironmentBuildError(f"`{command}` failed with exit code {result.returncode}")


def spec_for_directory(
    model_dir: pathlib.Path, name: str | None = None, progress: Progress = print
) -> ModelSpec:
    """A ModelSpec for the model in `model_dir`, its Python packages installed (cached).

    Raises PredictorLoadError when it can't run here: missing system packages (with the
    apt-get command to fix it) or packages that fail to install.
    """
    config = load_config(model_dir)
    missing = missing_system_packages(config)
    if missing:
        raise PredictorLoadError(
            f"{model_dir}: the model needs system packages that are not installed: "
            f"apt-get install {' '.join(missing)} (or: foretell models prepare {model_dir} --system)"
        )
    if config.gpu and not has_gpu():
        progress(
            f"{model_dir}: cog.yaml asks for a GPU (build.gpu) but this machine has none; "
            "starting it on the CPU"
        )
    if config.build_run:
        progress(
            f"{model_dir}: build.run has {len(config.build_run)} command(s), not run unless "
            f"asked: foretell models prepare {model_dir} --system"
        )
    try:
        environment = prepare(config, progress=progress)
    except EnvironmentBuildError as exc:
        raise PredictorLoadError(f"{model_dir}: {exc}") from exc
    return ModelSpec(
        name=name or config.name or f"local/{model_dir.resolve().name}",
        root=model_dir.resolve(),
        ref=config.predict,
        max_concurrency=config.concurrency,
        python=environment.python,
        env={**config.environment, **environment.env},
        gpu=config.gpu,
    )
