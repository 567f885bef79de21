"""Stopping `foretell serve` on SIGINT or SIGTERM: the first signal stops accepting and lets
running predictions finish for a grace period; a second one stops at once."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import Callable, Generator

import uvicorn

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Shutdown:
    """What the signals asked for; `requested` then `force`, both asyncio Events."""

    def __init__(
        self,
        say: Callable[[str], None],
        waiting_for: Callable[[], str],
        stopping: str = "No new requests",
    ) -> None:
        self.say = say
        self.waiting_for = waiting_for
        #: what stops being taken at the first signal (a worker takes no new work)
        self.stopping = stopping
        self.requested = asyncio.Event()
        self.force = asyncio.Event()
        self.server: uvicorn.Server | None = None
        #: loop time of the first signal
        self.requested_at: float | None = None

    def grace_left(self, grace_s: float) -> float:
        """What remains of a grace period that began with the first signal."""
        if self.force.is_set():
            return 0.0
        if self.requested_at is None:
            return grace_s
        return max(0.0, grace_s - (asyncio.get_running_loop().time() - self.requested_at))

    def install(self) -> None:
        """Handle SIGINT and SIGTERM alike (what systemd, Docker and Kubernetes send)."""
        loop = asyncio.get_running_loop()
        for sig in SIGNALS:
            loop.add_signal_handler(sig, self._signalled, sig)

    def remove(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in SIGNALS:
            loop.remove_signal_handler(sig)

    def _signalled(self, sig: signal.Signals) -> None:
        if not self.requested.is_set():
            self.requested.set()
            self.requested_at = asyncio.get_running_loop().time()
            self.say(
                f"{sig.name}: stopping. {self.stopping}; {self.waiting_for()} "
                "(Ctrl-C again to stop now)"
            )
            if self.server is not None:
                self.server.should_exit = True
            return
        self.force.set()
        self.say(f"{sig.name} again: stopping now")
        if self.server is not None:
            self.server.force_exit = True


class Server(uvicorn.Server):
    """uvicorn without its own signal handling (Shutdown has it): uvicorn re-raises a
    captured SIGTERM after serving, which would kill the process before it cleans up."""

    on_started: Callable[[], None] | None = None

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        # announced only once the port is bound, so whoever reads the line can connect
        if self.started and self.on_started is not None:
            self.on_started()
