"""A throwaway PostgreSQL cluster for the test run.

PostgreSQL refuses to run as root, and CI runs as root, so there the cluster is created and
started as the `postgres` system user that Debian's package creates.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


class PostgresUnavailableError(RuntimeError):
    pass


def find_bindir() -> Path:
    configured = os.environ.get("SIXFOLD_TEST_PG_BINDIR")
    candidates = [configured] if configured else sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    for candidate in reversed(candidates):
        if candidate and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise PostgresUnavailableError(
        "PostgreSQL server binaries (initdb) not found: install Debian's 'postgresql' "
        "package or set SIXFOLD_TEST_PG_BINDIR"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    bindir: Path
    root: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise PostgresUnavailableError(f"{args[0]} failed: {result.stderr or result.stdout}")

    def start(self) -> None:
        data = self.root / "data"
        self._run("initdb", "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8")
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.root} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            "pg_ctl", "-D", str(data), "-o", options, "-l", str(self.root / "log"), "-w", "start"
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise PostgresUnavailableError("PostgreSQL did not accept connections within 30 s")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def start_cluster() -> Cluster:
    bindir = find_bindir()
    root = Path(tempfile.mkdtemp(prefix="sixfold-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, user="postgres", group="postgres")
    cluster = Cluster(bindir=bindir, root=root, port=free_port())
    cluster.start()
    return cluster
