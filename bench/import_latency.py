"""How soon a roster import's preview starts and is ready after the upload, with the real
background worker (`guanai worker`) running as under `guanai serve`.

    .venv/bin/python bench/import_latency.py [--runs 5]

Sets up a fresh SQLite database in a temporary data directory, starts the worker as a child
process, waits until its heartbeat says it is up, then uploads the messy sample roster (40-odd
rows) as a preview (dry run) `--runs` times, one after another, printing for each how long the
job waited in the queue (upload → running) and until the preview was ready (upload →
succeeded); then the median and the worst. Target (issue #12): the preview starts within 2 s.
The first run after the worker starts is printed apart: it pays for the first import's
imports. Prints numbers; never a timed unit test.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SAMPLE = ROOT / "guanai/children/tests/data/roster-messy-sample.xlsx"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    data = tempfile.mkdtemp(prefix="guanai-latency-")
    os.environ["GUANAI_DATA_DIR"] = data
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanai.settings")
    import django

    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command

    from guanai.jobs.models import Job, JobStatus
    from guanai.org.models import School, Town
    from guanai.screening.imports import start_import

    call_command("migrate", verbosity=0)
    town = Town.objects.create(name="测试镇")
    school = School.objects.create(town=town, code="T-1", name="测试小学")
    env = dict(os.environ, GUANAI_DATA_DIR=data)
    worker = subprocess.Popen(
        [sys.executable, "-m", "guanai", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        started = time.monotonic()
        beat = Path(data) / "worker-heartbeat.json"
        while not beat.exists() and time.monotonic() - started < 60:
            time.sleep(0.05)
        print(f"worker up (heartbeat written) after {time.monotonic() - started:.2f} s")
        content = SAMPLE.read_bytes()
        waits, readies = [], []
        for n in range(args.runs):
            upload = SimpleUploadedFile(SAMPLE.name, content)
            t0 = time.monotonic()
            job = start_import(school=school, upload=upload, term=None, dry_run=True, by=None)
            running = None
            while True:
                status = Job.objects.filter(pk=job.pk).values_list("status", flat=True).get()
                if status != JobStatus.QUEUED and running is None:
                    running = time.monotonic() - t0
                if status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
                    ready = time.monotonic() - t0
                    break
                if time.monotonic() - t0 > 120:
                    raise SystemExit("the preview did not finish in 120 s")
                time.sleep(0.02)
            label = "first" if n == 0 else f"run {n + 1}"
            print(f"{label:>6}: started {running:.2f} s, preview ready {ready:.2f} s ({status})")
            if n:
                waits.append(running)
                readies.append(ready)
            time.sleep(1.3)  # let the worker go back to sleep, as between two teachers
        if waits:
            print(
                f"after the first: started median {statistics.median(waits):.2f} s, worst "
                f"{max(waits):.2f} s; ready median {statistics.median(readies):.2f} s, worst "
                f"{max(readies):.2f} s"
            )
    finally:
        worker.terminate()
        worker.wait(timeout=30)


if __name__ == "__main__":
    main()
