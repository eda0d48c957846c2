"""A weak rural link for browser tests: a network namespace behind a veth pair whose two
ends are limited with ``tbf`` (netem is not in these kernels; see /work/shared/testbeds.md).

The namespace, the veth pair and the addresses are this process's own (named after its pid),
and are removed on close. Needs root; :func:`refused` says why it cannot be made here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

FAST = "rate 20mbit burst 64kb latency 50ms"


def _run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, check=check, timeout=20)


class WeakLink:
    """``host`` is the address on this side, ``inside`` the namespace's; ``limit()`` and
    ``lift()`` change both directions at once while a call runs."""

    def __init__(self) -> None:
        n = os.getpid() % 200 + 20
        self.name = f"tcweak{os.getpid()}"
        self.outer = f"tcw{os.getpid() % 100000}h"
        self.inner = f"tcw{os.getpid() % 100000}n"
        self.host = f"10.79.{n}.1"
        self.inside = f"10.79.{n}.2"
        self.made = False

    def open(self) -> WeakLink:
        ns = ("ip", "netns", "exec", self.name)
        _run("ip", "netns", "add", self.name)
        self.made = True
        _run("ip", "link", "add", self.outer, "type", "veth", "peer", "name", self.inner)
        _run("ip", "link", "set", self.inner, "netns", self.name)
        _run("ip", "addr", "add", f"{self.host}/30", "dev", self.outer)
        _run("ip", "link", "set", self.outer, "up")
        _run(*ns, "ip", "addr", "add", f"{self.inside}/30", "dev", self.inner)
        _run(*ns, "ip", "link", "set", self.inner, "up")
        _run(*ns, "ip", "link", "set", "lo", "up")
        _run("tc", "qdisc", "add", "dev", self.outer, "root", "tbf", *FAST.split())
        _run(*ns, "tc", "qdisc", "add", "dev", self.inner, "root", "tbf", *FAST.split())
        return self

    def _shape(self, spec: str) -> None:
        _run("tc", "qdisc", "change", "dev", self.outer, "root", "tbf", *spec.split())
        _run(
            "ip", "netns", "exec", self.name,
            "tc", "qdisc", "change", "dev", self.inner, "root", "tbf", *spec.split(),
        )  # fmt: skip

    def limit(self, kbit: int = 150) -> None:
        """The rural link: ``kbit`` kbit/s each way, a 1600-byte burst, 400 ms of queue."""
        self._shape(f"rate {kbit}kbit burst 1600 latency 400ms")

    def lift(self) -> None:
        self._shape(FAST)

    def wrapper(self, folder: Path, chromium: str) -> Path:
        """An executable that starts Chromium inside the namespace (for Playwright)."""
        script = folder / "chromium-in-namespace"
        script.write_text(f'#!/bin/sh\nexec ip netns exec {self.name} {chromium} "$@"\n')
        script.chmod(0o755)
        return script

    def close(self) -> None:
        if not self.made:
            return
        _run("ip", "link", "del", self.outer, check=False)
        _run("ip", "netns", "del", self.name, check=False)
        self.made = False


def refused() -> str | None:
    """Why a namespace cannot be made here (None: it can)."""
    if shutil.which("ip") is None or shutil.which("tc") is None:
        return "the ip and tc commands (iproute2) are missing"
    if os.geteuid() != 0:
        return "network namespaces need root"
    probe = f"tcprobe{os.getpid()}"
    made = _run("ip", "netns", "add", probe, check=False)
    if made.returncode != 0:
        return f"network namespaces are refused here: {made.stderr.strip()[:200]}"
    _run("ip", "netns", "del", probe, check=False)
    return None
