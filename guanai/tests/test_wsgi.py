"""The web process's start (guanai/wsgi.py, what gunicorn loads)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_web_process_keeps_its_start_out_of_the_collectors_way(tmp_path):
    """After loading the app every view is imported and the objects of the start are frozen:
    a full collection of a request's garbage does not walk the whole framework (the due
    page's p95 went from one 140 ms pause in five requests to 18 ms at most)."""
    env = {**os.environ, "GUANAI_DATA_DIR": str(tmp_path)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    probe = (
        "import gc, sys; import guanai.wsgi;"
        " print(gc.get_freeze_count(), 'guanai.contacts.views_due' in sys.modules,"
        " sum(gc.get_count()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    frozen, views, young = out.stdout.split()
    assert int(frozen) > 50_000  # the framework, the models, the views
    assert views == "True"
    assert int(young) < 1_000  # nothing left for the collector but what comes after
