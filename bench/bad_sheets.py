"""Peak memory and time of the roster import on files built to hurt it (security issue #10),
beside a normal roster.

    GUANAI_DATA_DIR=$(mktemp -d) .venv/bin/python bench/bad_sheets.py [--rows 10000]

Builds each file (small on disk: zipfile and hand-written XML, guanai/children/tests/
bad_sheets.py), then imports it in a fresh process through `import_roster` (the service behind
`guanai import-roster` and the import page) and prints, per file: its size, the outcome, the
wall time, the peak RSS of the importing process and of the sheet reader's child process
(lib.xlsx reads workbooks in a child with a 1.25 GB address-space ceiling). Before the fix the
far cell aborted the process, the 1 GB cell took 3.4 GB and the 16 M rows 6 GB. Prints
numbers; never a timed unit test.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def setup_django() -> None:
    os.environ.pop("DATABASE_URL", None)  # a scratch SQLite database in GUANAI_DATA_DIR
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanai.settings")
    import django

    django.setup()


def build(folder: Path, rows: int) -> list[tuple[str, Path]]:
    from guanai.children.tests import bad_sheets as bad

    files = [
        ("far cell A1 + XFD1048576", bad.far_cell(folder / "far.xlsx")),
        (
            "far cell behind a lying <dimension A1:A2>",
            bad.far_cell(folder / "far-lying.xlsx", dimension="A1:A2"),
        ),
        ("one 1 GB cell", bad.huge_cell(folder / "cell-1gb.xlsx", 2**30)),
        ("16 M rows", bad.many_rows(folder / "rows-16m.xlsx", 16_000_000)),
        (
            "16 M rows behind a lying <dimension A1:A2>",
            bad.many_rows(folder / "rows-16m-lying.xlsx", 16_000_000, dimension="A1:A2"),
        ),
    ]
    csv_rows = folder / "rows-16m.csv"
    csv_rows.write_bytes(b"x\n" * 16_000_000)
    files.append(("CSV of 16 M rows (32 MB)", csv_rows))
    csv_field = folder / "field-50mb.csv"
    csv_field.write_bytes(b'\xe5\xa7\x93\xe5\x90\x8d\n"' + b"a" * (50 * 2**20) + b'"\n')
    files.append(("CSV with one 50 MB field", csv_field))
    largest = folder / "largest-200k-x-40.xlsx"

    def filled():
        from guanai.lib.xlsx import column_letters

        cols = [column_letters(c) for c in range(40)]
        for r in range(1, 200_001):
            yield "".join(
                f'<c r="{col}{r}" t="inlineStr"><is><t>格{r % 997}</t></is></c>' for col in cols
            ).join((f'<row r="{r}">', "</row>"))

    bad.workbook(largest, bad.sheet_xml(filled(), dimension="A1:AN200000"), level=1)
    files.append(("largest allowed: 200,000 x 40 text cells", largest))
    from import_roster import generate

    normal = folder / f"roster-{rows}.xlsx"
    generate(normal, rows, region_offset=5, seed=7)
    files.append((f"normal roster, {rows:,} rows x 30 columns", normal))
    return files


def peak_mb(pid: int | str = "self") -> float:
    """VmHWM: the peak resident set of a process since its exec (getrusage's ru_maxrss also
    counts the parent's pages a child carried between fork and exec)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def watch_reader_children() -> dict[str, float]:
    """Follow every process lib.xlsx starts and keep the largest peak seen."""
    import threading

    from guanai.lib import xlsx

    seen = {"peak": 0.0}
    real = subprocess.Popen

    class Watched(real):  # type: ignore[misc, valid-type]
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            threading.Thread(target=self._watch, daemon=True).start()

        def _watch(self) -> None:
            time.sleep(0.005)  # past the exec: VmHWM starts again with the new program
            while self.poll() is None:
                seen["peak"] = max(seen["peak"], peak_mb(self.pid))
                time.sleep(0.01)

    xlsx.subprocess.Popen = Watched  # type: ignore[misc]
    return seen


def measure(path: str) -> None:
    """In a fresh process: import the file (for real) and print what it cost, as JSON."""
    setup_django()
    from guanai.children.roster import RosterError, import_roster
    from guanai.org.models import School, Town

    reader = watch_reader_children()

    town = Town.objects.get_or_create(name="基准镇")[0]
    school = School.objects.get_or_create(
        code=f"BENCH-{os.getpid()}", defaults={"town": town, "name": "基准小学"}
    )[0]
    before = peak_mb()
    start = time.perf_counter()
    try:
        result = import_roster(path=path, school=school)
        outcome = f"imported: created {result.created:,}, rejected {result.rejected:,}"
    except RosterError as exc:
        outcome = f"refused: {exc}"
    elapsed = time.perf_counter() - start
    print(
        json.dumps(
            {
                "outcome": outcome,
                "seconds": elapsed,
                "rss_mb": peak_mb(),
                "rss_before_mb": before,
                "reader_rss_mb": reader["peak"],
            },
            ensure_ascii=False,
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000, help="rows of the normal roster")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if "GUANAI_DATA_DIR" not in os.environ:
        os.environ["GUANAI_DATA_DIR"] = tempfile.mkdtemp(prefix="guanai-bench-")
    if args.measure:
        measure(args.measure)
        return
    setup_django()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    folder = Path(tempfile.mkdtemp(prefix="guanai-bad-sheets-"))
    start = time.perf_counter()
    files = build(folder, args.rows)
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; files built in "
        f"{time.perf_counter() - start:.0f} s under {folder}"
    )
    print()
    print("peak RSS: the importing process (Django loaded: see the first line's baseline) and")
    print("the sheet reader's child process (calamine; its ceiling is 1.25 GB of address space)")
    print(f"{'file':<44} {'size':>9} {'time':>7} {'import':>9} {'reader':>8}  outcome")
    for label, path in files:
        done = subprocess.run(
            [sys.executable, __file__, "--measure", str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        size = path.stat().st_size
        shown = f"{size / 2**20:.1f} MB" if size >= 2**20 else f"{size / 1024:.1f} KB"
        if done.returncode != 0:
            print(f"{label:<44} {shown:>9}  died with status {done.returncode}")
            continue
        m = json.loads(done.stdout.strip().splitlines()[-1])
        if label == files[0][0]:
            print(
                f"{'(importing process before the import)':<44} {'':>9} {'':>7} "
                f"{m['rss_before_mb']:>6.0f} MB"
            )
        print(
            f"{label:<44} {shown:>9} {m['seconds']:>6.1f}s {m['rss_mb']:>6.0f} MB "
            f"{m['reader_rss_mb']:>5.0f} MB  {m['outcome'][:110]}"
        )
        path.unlink()


if __name__ == "__main__":
    main()
