"""The documentation builds without a warning, running every gallery example."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_documentation_builds_without_warnings(tmp_path):
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html"]
    # Run every example again, even where the gallery holds results of an earlier build.
    command += ["-D", "sphinx_gallery_conf.run_stale_examples=True"]
    command += ["-d", str(tmp_path / "doctrees"), "docs", str(tmp_path / "html")]
    result = subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert result.returncode == 0, result.stderr[-5000:]
    html = tmp_path / "html"
    assert (html / "index.html").exists()
    for example in sorted((ROOT / "examples").glob("plot_*.py")):
        page = html / "auto_examples" / f"{example.stem}.html"
        assert page.exists(), f"{example.name} is missing from the gallery"
