"""`pip install tenantry` is enough: the wheel `python -m build` makes serves from a fresh venv, with no dev tools.

Cheap enough for every `make test`: it runs once (the SQLite leg only; the server uses its own SQLite file
whatever the leg), and the runtime dependencies are kept as wheels in `.venv/wheelhouse`, so after the first
run the fresh venv installs offline (`--no-index`) in seconds. A changed dependency refreshes the wheelhouse.
"""

import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.conftest import BACKEND
from tests.live_server import free_port

pytestmark = pytest.mark.skipif(BACKEND != "sqlite", reason="runs once, in the SQLite leg")
SHIPPED_DATA = (
    "tenantry/templates/ui/sign_in.html",
    "tenantry/templates/email/invitation.txt",
    "tenantry/ui/static/tenantry.css",
    "tenantry/locale/fr/LC_MESSAGES/messages.po",
    "tenantry/locale/de/LC_MESSAGES/messages.po",
    "tenantry/db/migrations/env.py",
    "tenantry/db/migrations/script.py.mako",
    "tenantry/core/credentials/data/common-passwords.txt",
)
DEV_TOOLS = ("pytest", "ruff", "mypy", "playwright", "hypothesis", "schemathesis", "aiosmtpd")


def _run(*command: str | Path, timeout: float = 600) -> None:
    result = subprocess.run([str(part) for part in command], capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{command}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"


@pytest.fixture(scope="module")
def wheel(project_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "build", "--wheel", "--outdir", out, project_root)
    (built,) = out.glob("tenantry-*.whl")
    return built


def _pip(venv: Path) -> tuple[str | Path, ...]:
    """This interpreter's pip working on ``venv`` (which then needs no pip of its own)."""
    return (sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "--disable-pip-version-check")


def _install(venv: Path, wheel: Path, wheelhouse: Path) -> None:
    """Install ``wheel`` and its dependencies from the wheelhouse; fill it from the index when it lacks one."""
    offline = (*_pip(venv), "install", "--quiet", "--no-compile", "--no-index", "--find-links", wheelhouse, wheel)
    if subprocess.run([str(part) for part in offline], capture_output=True, timeout=600).returncode != 0:
        _run(*_pip(venv), "wheel", "--quiet", "--wheel-dir", wheelhouse, "--find-links", wheelhouse, wheel)
        _run(*offline)


def test_the_wheel_ships_templates_static_files_migrations_and_the_blocklist(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert [name for name in SHIPPED_DATA if name not in names] == []


def test_the_wheel_serves_from_a_fresh_venv_without_dev_tools(wheel: Path, project_root: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    _install(venv, wheel, project_root / ".venv" / "wheelhouse")
    listing = [str(part) for part in (*_pip(venv), "list", "--format=freeze")]
    installed = subprocess.run(listing, capture_output=True, text=True, check=True).stdout.lower()
    assert [tool for tool in DEV_TOOLS if f"\n{tool}==" in f"\n{installed}"] == []

    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "TENANTRY_DATABASE_URL": f"sqlite:///{tmp_path / 'tenantry.db'}",
    }
    server = subprocess.Popen(
        [str(venv / "bin" / "tenantry"), "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 180  # generous: the suite runs beside it on a busy machine
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.communicate()[0].decode()[-3000:]
                assert time.monotonic() < deadline, "tenantry serve did not answer within 180 s"
                time.sleep(0.2)
        assert health.status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/ui/sign-in", timeout=5).status_code == 200  # templates, css
        french = httpx.get(f"http://127.0.0.1:{port}/ui/sign-in", headers={"Accept-Language": "fr"}, timeout=5)
        assert "Mot de passe oublié" in french.text  # the catalogs ship and compile in the installed wheel
    finally:
        server.terminate()
        server.wait(timeout=30)
