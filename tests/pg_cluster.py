"""A throwaway PostgreSQL cluster the test starts and stops itself (initdb and pg_ctl of the machine's
PostgreSQL), on a free port, owned by the ``postgres`` user when the tests run as root."""

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.live_server import free_port


def binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


@dataclass
class Cluster:
    bin: Path
    data: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        argv = [str(self.bin / command[0]), *command[1:]]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        subprocess.run(argv, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.data / "log"), "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    bin_dir = binaries()
    if bin_dir is None:
        raise RuntimeError("no PostgreSQL binaries under /usr/lib/postgresql")
    root = Path(tempfile.mkdtemp(prefix="tenantry-pg-"))
    data = root / "data"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(data, "postgres")
    cluster = Cluster(bin_dir, data, free_port())
    cluster._run("initdb", "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
    cluster.start()
    try:
        yield cluster
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped by the test
            cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def streaming_replica(primary: Cluster) -> Iterator[Cluster]:
    """A hot standby of ``primary`` (``pg_basebackup -R``: it streams the primary's WAL), started on a free port."""
    root = Path(tempfile.mkdtemp(prefix="tenantry-pg-replica-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    replica = Cluster(primary.bin, root / "data", free_port())
    replica._run(
        "pg_basebackup", "-D", str(replica.data), "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
        "-R", "-X", "stream", "--no-sync", "--checkpoint=fast",
    )  # fmt: skip
    replica.start()
    try:
        yield replica
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            replica.stop()
        shutil.rmtree(root, ignore_errors=True)
