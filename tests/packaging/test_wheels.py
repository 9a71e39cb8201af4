"""The daemon's wheel carries the product alone; the sandbox's wheel carries the stand-ins.

Both are built as a release would build them (``pip wheel <project> --no-deps``), from a copy of
the source so that no build output lands in the checkout, without build isolation or an index
(the dev extra brings setuptools), and then read as zip files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SKIP = shutil.ignore_patterns(
    ".*", "__pycache__", "*.egg-info", "build", "state", "tests", "bench", "deploy", "*.pdf"
)


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, zipfile.ZipFile]]:
    source = tmp_path_factory.mktemp("source") / "giftbridge"
    shutil.copytree(ROOT, source, ignore=SKIP)
    out = tmp_path_factory.mktemp("wheels")
    env = {**os.environ, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    for project in (source, source / "sandbox"):
        subprocess.run(
            [*pip_wheel, "--quiet", "--wheel-dir", str(out), str(project)],
            check=True,
            env=env,
            timeout=240,
            capture_output=True,
        )
    built = {path.name.split("-")[0]: zipfile.ZipFile(path) for path in out.glob("*.whl")}
    yield built
    for wheel in built.values():
        wheel.close()


def _names(wheel: zipfile.ZipFile) -> set[str]:
    return set(wheel.namelist())


def _dist_file(wheel: zipfile.ZipFile, name: str) -> str:
    (path,) = [n for n in wheel.namelist() if n.endswith(f".dist-info/{name}")]
    return wheel.read(path).decode("utf-8")


def test_the_daemon_wheel_has_no_sandbox(wheels: dict[str, zipfile.ZipFile]) -> None:
    names = _names(wheels["giftbridge"])
    assert {"daemon/cli.py", "config/airtable-base.json", "clients/ports.py"} <= names
    assert any(n.startswith("clients/graphql/") and n.endswith(".graphql") for n in names)
    packages = {n.split("/")[0] for n in names if not n.startswith("giftbridge-")}
    assert packages == {"cards", "clients", "config", "daemon", "prongs"}
    stand_ins = ("sandbox/", "shopify-admin.schema.graphql", "klaviyo-event-create")
    assert not [n for n in names if any(part in n for part in stand_ins)]
    assert "giftbridge = daemon.cli:main" in _dist_file(wheels["giftbridge"], "entry_points.txt")


def test_the_sandbox_wheel_carries_the_stand_ins_and_their_schemas(
    wheels: dict[str, zipfile.ZipFile],
) -> None:
    wheel = wheels["giftbridge_sandbox"]
    names = _names(wheel)
    assert {
        "sandbox/__main__.py",
        "sandbox/runner.py",
        "sandbox/stack.py",
        "sandbox/shopify/views.py",
        "sandbox/airtable/app.py",
        "sandbox/klaviyo/app.py",
        "sandbox/data/shopify-admin.schema.graphql",
        "sandbox/data/klaviyo-event-create.schema.json",
    } <= names
    packages = {n.split("/")[0] for n in names if not n.startswith("giftbridge_sandbox-")}
    assert packages == {"sandbox"}  # nothing of the daemon, and not its own pyproject.toml
    assert not [n for n in names if n.endswith(("pyproject.toml", ".egg-info"))]
    assert "Requires-Dist: giftbridge" in _dist_file(wheel, "METADATA")
    entry_points = _dist_file(wheel, "entry_points.txt")
    assert "giftbridge-sandbox = sandbox.runner:main" in entry_points


def test_both_wheels_declare_their_licence_the_pep_639_way(
    wheels: dict[str, zipfile.ZipFile],
) -> None:
    expected = {
        "giftbridge": "LicenseRef-Proprietary AND OFL-1.1 AND Apache-2.0",
        "giftbridge_sandbox": "LicenseRef-Proprietary AND MIT",
    }
    for name, expression in expected.items():
        metadata = _dist_file(wheels[name], "METADATA")
        assert f"License-Expression: {expression}" in metadata.splitlines()
        assert "License-File: " in metadata
        assert not [line for line in metadata.splitlines() if line.startswith("License: ")]
    names = _names(wheels["giftbridge"])
    assert any(n.endswith("licenses/clients/certificate/fonts/OFL.txt") for n in names)
