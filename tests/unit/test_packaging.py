"""The wheel ships everything the app reads at run time, and the app starts from it.

CI (.ci/run) does the same with a fully fresh venv and the dependencies from the index;
here the fresh venv borrows this venv's dependencies so the test stays offline and quick.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _listed_packages() -> set[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return set(data["tool"]["setuptools"]["packages"])


def test_every_package_on_disk_is_listed_in_pyproject() -> None:
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "tui").rglob("__init__.py")
    }
    assert (ROOT / "themes" / "__init__.py").is_file()
    assert _listed_packages() == on_disk | {"tui.themes"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # Built from a copy of what git would check out, so a stale build/ cannot leak into it.
    source = out / "src"
    listed = subprocess.run(
        ["git", "ls-files", "-z", "-co", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():  # a file deleted but not yet committed is still listed
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(source)],
        check=True,
        cwd=out,
    )
    (found,) = out.glob("partdeck-*.whl")
    return found


def test_wheel_holds_the_css_and_the_shipped_themes(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    themes = sorted(p.name for p in (ROOT / "themes").glob("*.toml"))
    assert themes  # the repo ships some
    assert "tui/ui/app.tcss" in names
    assert {f"tui/themes/{name}" for name in themes} <= names


def _requires(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        text = archive.read(metadata).decode()
    return [
        line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("Requires-Dist:")
    ]


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert match is not None, requirement
    return match.group(0).lower()


def test_moto_comes_only_with_the_sandbox_extra_and_dev_brings_it(wheel: Path) -> None:
    requires = _requires(wheel)
    always = {_name(r) for r in requires if "extra ==" not in r}
    assert {"starlette", "uvicorn", "httpx", "textual"} <= always  # the service needs them
    assert "moto" not in always
    moto = [r for r in requires if _name(r) == "moto"]
    assert moto and all('extra == "sandbox"' in r for r in moto)
    assert any(r.startswith("partdeck[sandbox]") and 'extra == "dev"' in r for r in requires)


def test_only_the_sandbox_imports_moto() -> None:
    importers = []
    for source in (ROOT / "tui").rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(n == "moto" or n.startswith("moto.") for n in names):
                importers.append(source.relative_to(ROOT).as_posix())
    assert importers  # the sandbox's S3 back end
    assert all(name.startswith("tui/sandbox/") for name in importers), importers


@pytest.mark.slow
def test_app_starts_from_the_wheel_in_a_fresh_venv(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # The dependencies come from this venv: a plain path entry, so its editable finder
    # (which maps tui onto the source tree) is not loaded there.
    Path(purelib, "dev-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-deps",
            str(wheel),
        ],
        check=True,
    )
    done = subprocess.run(
        [str(python), str(ROOT / ".ci" / "installed_app_check.py")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert f"tui from {venv.resolve()}" in done.stdout
    assert "theme partdeck-dark" in done.stdout
