"""16 clients for 60 s against the real app while roster imports run (issue #19).

    PYTHONPATH=. .venv/bin/python bench/concurrency.py                 # SQLite file, WAL
    PYTHONPATH=. .venv/bin/python bench/concurrency.py --pg            # PostgreSQL scratch db
    options: --seconds 60 --clients 16 --workers 2 --threads 8 --cards 2000 --hot 200
             --import-rows 20000 --imports 4

Builds a fresh database (SQLite under a temporary GUANAI_DATA_DIR with the settings' WAL and
busy timeout; with --pg a scratch database `guanai_bench_conc` on 127.0.0.1:5432 as postgres,
dropped at the end), seeds one school with --cards cards through the roster import, then starts
gunicorn (gthread, --workers x --threads) on the WSGI app and --clients client threads, each a
school leader with its own API token, for --seconds:

* 55 % log a contact, POST /api/v1/contacts with a fresh Idempotency-Key; one in ten is sent
  again with the same key (must answer 200 and the same id), one in twenty is sent twice at
  the same moment from two connections (one 201, one 200, one row);
* 45 % edit a card among --hot cards: GET /api/v1/children/N for its version, PATCH the address
  with it (200, or 409 when another client got there first: refused, not lost); one in five
  accepted edits is followed by a deliberate stale PATCH with the old version (must be 409).

Meanwhile `guanai import-roster` runs in a loop (sheets of --import-rows rows into new schools
of the same town, up to --imports of them). At the end, read back from the database: every
accepted key has exactly one contact (duplicates 0), every hot card's version equals its first
version plus the accepted edits and holds the last accepted address (lost updates 0).
Prints requests/s, errors by kind, "database is locked" (in responses and the server's log).
"""

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
PG_DB = "guanai_bench_conc"
LOCKED = "database is locked"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(sql)


class Tally:
    """Counts shared by the client threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.counts: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.samples: list[str] = []
        self.locked = 0
        # idempotency key -> (user index, contact id)
        self.keys: dict[str, tuple[int, int]] = {}
        # child id -> [(version after, address)]
        self.accepted: dict[int, list[tuple[int, str]]] = defaultdict(list)
        self.lost: list[str] = []

    def error(self, kind: str, detail: str) -> None:
        with self.lock:
            self.errors[kind] += 1
            if LOCKED in detail:
                self.locked += 1
            if len(self.samples) < 10:
                self.samples.append(f"{kind}: {detail[:300]}")

    def count(self, what: str, n: int = 1) -> None:
        with self.lock:
            self.counts[what] += n


class Client:
    """One keep-alive connection with a bearer token."""

    def __init__(self, port: int, token: str, tally: Tally) -> None:
        self.port, self.token, self.tally = port, token, tally
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method: str, path: str, body=None, headers=None) -> tuple[int, object]:
        head = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        head.update(headers or {})
        data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        try:
            self.conn.request(method, path, body=data, headers=head)
            response = self.conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            with self.tally.lock:
                self.tally.requests += 1
            raise ConnectionError(f"{method} {path}: {exc!r}") from exc
        with self.tally.lock:
            self.tally.requests += 1
        text = raw.decode("utf-8", "replace")
        if LOCKED in text:
            self.tally.error("database is locked", f"{method} {path} {response.status}: {text}")
        try:
            payload = json.loads(text) if text else None
        except ValueError:
            payload = text
        return response.status, payload


def log_contact(client: Client, tally: Tally, idx: int, child: int, n: int, rng) -> None:
    key = f"bench-{idx}-{n}-{uuid.uuid4().hex[:8]}"
    body = {
        "child": child,
        "kind": rng.choice(["phone", "home_visit", "message", "family_call"]),
        "at": f"2026-11-{rng.randrange(1, 28):02d}T{rng.randrange(8, 20):02d}:00:00",
        "with_whom": "祖母",
        "notes": f"并发测试 {idx}-{n}",
    }
    headers = {"Idempotency-Key": key}
    roll = rng.random()
    if roll < 0.05:  # the same request twice at the same moment, from two connections
        other = Client(client.port, client.token, tally)
        answers: list = [None, None]

        def second() -> None:
            try:
                answers[1] = other.call("POST", "/api/v1/contacts", body, headers)
            except ConnectionError as exc:
                answers[1] = (0, str(exc))

        t = threading.Thread(target=second)
        t.start()
        answers[0] = client.call("POST", "/api/v1/contacts", body, headers)
        t.join()
        other.conn.close()
        statuses = sorted(a[0] for a in answers)
        if statuses != [200, 201]:
            tally.error("racing resend", f"statuses {statuses}: {answers}")
            ok = [a for a in answers if a[0] in (200, 201)]
            if not ok:
                return
        else:
            tally.count("racing resends answered once")
        ids = {a[1]["id"] for a in answers if a[0] in (200, 201)}
        if len(ids) != 1:
            tally.error("racing resend", f"two contacts for one key: {ids}")
        with tally.lock:
            tally.keys[key] = (idx, min(ids))
        tally.count("contacts created")
        return
    status, out = client.call("POST", "/api/v1/contacts", body, headers)
    if status != 201:
        tally.error(f"POST contact {status}", str(out))
        return
    tally.count("contacts created")
    with tally.lock:
        tally.keys[key] = (idx, out["id"])
    if roll < 0.15:  # a resend after a lost answer
        status2, out2 = client.call("POST", "/api/v1/contacts", body, headers)
        if status2 != 200 or out2.get("id") != out["id"]:
            tally.error("resend", f"{status2}: {out2}")
        else:
            tally.count("resends answered with the first contact")


def edit_card(client: Client, tally: Tally, idx: int, child: int, n: int, rng) -> None:
    status, card = client.call("GET", f"/api/v1/children/{child}")
    if status != 200:
        tally.error(f"GET card {status}", str(card))
        return
    version = card["version"]
    address = f"并发路{idx}号{n}"
    status, out = client.call(
        "PATCH", f"/api/v1/children/{child}", {"version": version, "address": address}
    )
    if status == 409:
        tally.count("edits refused (another client was first)")
        return
    if status != 200:
        tally.error(f"PATCH card {status}", str(out))
        return
    tally.count("edits accepted")
    with tally.lock:
        tally.accepted[child].append((out["version"], address))
    if rng.random() < 0.2:  # a deliberate stale write: must be refused
        stale = f"过期写入{idx}号{n}"
        status, out = client.call(
            "PATCH", f"/api/v1/children/{child}", {"version": version, "address": stale}
        )
        if status in (409, 412):
            tally.count("stale writes refused")
        else:
            tally.error(f"stale PATCH answered {status}", str(out))
            if status == 200:
                with tally.lock:
                    tally.lost.append(f"stale write accepted on card {child}")
                    tally.accepted[child].append((out["version"], stale))


def client_loop(idx, port, token, children, hot, deadline, tally, seed) -> None:
    rng = random.Random(seed)
    client = Client(port, token, tally)
    n = 0
    while time.monotonic() < deadline:
        n += 1
        try:
            if rng.random() < 0.55:
                log_contact(client, tally, idx, rng.choice(children), n, rng)
            else:
                edit_card(client, tally, idx, rng.choice(hot), n, rng)
        except ConnectionError as exc:
            tally.error("connection", str(exc))
        except Exception as exc:  # noqa: BLE001 — a bench reports, it does not stop
            tally.error(type(exc).__name__, repr(exc))
    client.conn.close()


def import_loop(sheets, env, deadline, results) -> None:
    for sheet, code in sheets:
        if time.monotonic() >= deadline:
            break
        t0 = time.perf_counter()
        proc = subprocess.run(  # noqa: PLW1510 — the exit status is the result
            [sys.executable, "-m", "guanai", "import-roster", str(sheet), "--school", code],
            env=env,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        results.append(
            (code, proc.returncode, time.perf_counter() - t0, (proc.stdout + proc.stderr)[-400:])
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--cards", type=int, default=2000)
    parser.add_argument("--hot", type=int, default=200)
    parser.add_argument("--import-rows", type=int, default=20000)
    parser.add_argument("--imports", type=int, default=4)
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="guanai-bench-conc-"))
    env = dict(os.environ)
    env["GUANAI_DATA_DIR"] = str(data_dir)
    env["DJANGO_SETTINGS_MODULE"] = "guanai.settings"
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("DATABASE_URL", None)
    if args.pg:
        pg_admin(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        pg_admin(f"CREATE DATABASE {PG_DB}")
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{PG_DB}"
    os.environ.clear()
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from import_roster import generate

    from guanai.accounts.models import ApiToken, Role, RoleAssignment, User
    from guanai.children.models import Child
    from guanai.children.roster import import_roster
    from guanai.contacts.models import Contact
    from guanai.org.models import School, Town

    server = None
    try:
        call_command("migrate", verbosity=0)
        engine = connection.vendor
        if engine == "sqlite":
            mode = connection.cursor().execute("PRAGMA journal_mode").fetchone()[0]
            engine = f"sqlite ({mode}, {data_dir / 'guanai.sqlite3'})"
        print(f"database: {engine}")
        town = Town.objects.create(name="并发镇")
        school = School.objects.create(town=town, code="CONC-A", name="并发小学")
        work = data_dir / "sheets"
        work.mkdir()
        seed_sheet = work / "seed.xlsx"
        generate(seed_sheet, args.cards, region_offset=1, seed=7)
        result = import_roster(path=seed_sheet, school=school)
        assert result.created == args.cards, result.as_dict()
        sheets = []
        for i in range(args.imports):
            code = f"CONC-B{i}"
            School.objects.create(town=town, code=code, name=f"导入小学{i}")
            sheet = work / f"import-{i}.xlsx"
            generate(sheet, args.import_rows, region_offset=2 + i, seed=100 + i)
            sheets.append((sheet, code))
        tokens, users = [], []
        for i in range(args.clients):
            user = User.objects.create_user(username=f"conc{i}", display_name=f"校长{i}")
            RoleAssignment.objects.create(user=user, role=Role.SCHOOL_LEADER, school=school)
            users.append(user)
            tokens.append(ApiToken.issue(user, name="bench"))
        children = list(Child.objects.filter(school=school).values_list("pk", flat=True))
        hot = random.Random(3).sample(children, min(args.hot, len(children)))
        first_version = dict(Child.objects.filter(pk__in=hot).values_list("pk", "version"))
        connection.close()

        port = free_port()
        log_path = data_dir / "server.log"
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "guanai.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.workers),
                "--threads",
                str(args.threads),
                "--worker-class",
                "gthread",
                "--keep-alive",
                "75",
                "--timeout",
                "120",
            ],
            env=env,
            cwd=ROOT,
            stdout=log_path.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for _ in range(200):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        warm = Client(port, tokens[0], Tally())
        assert warm.call("GET", f"/api/v1/children/{hot[0]}")[0] == 200
        warm.conn.close()

        print(
            f"{args.clients} clients x {args.seconds:.0f} s, gunicorn {args.workers} workers x "
            f"{args.threads} threads, {len(children):,} cards ({len(hot)} edited), imports of "
            f"{args.import_rows:,} rows running alongside …"
        )
        tally = Tally()
        imports: list = []
        start = time.monotonic()
        deadline = start + args.seconds
        importer = threading.Thread(target=import_loop, args=(sheets, env, deadline, imports))
        importer.start()
        threads = [
            threading.Thread(
                target=client_loop,
                args=(i, port, tokens[i], children, hot, deadline, tally, 1000 + i),
            )
            for i in range(args.clients)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - start
        importer.join()
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
        server = None
        log = log_path.read_text(errors="replace")

        # --- read back ------------------------------------------------------------------
        by_user = {u.pk: i for i, u in enumerate(users)}
        rows = list(
            Contact.objects.filter(by__in=users).values_list("pk", "by_id", "idempotency_key")
        )
        per_key = Counter((by_user[b], k) for _pk, b, k in rows)
        duplicates = sum(n - 1 for n in per_key.values() if n > 1)
        missing = [k for k, (i, _cid) in tally.keys.items() if (i, k) not in per_key]
        unaccounted = len(rows) - len(tally.keys)
        lost = list(tally.lost)
        final = {
            pk: (version, address)
            for pk, version, address in Child.objects.filter(pk__in=hot).values_list(
                "pk", "version", "address"
            )
        }
        for pk in hot:
            writes = sorted(tally.accepted.get(pk, []))
            version, address = final[pk]
            expected_version = first_version[pk] + len(writes)
            if version != expected_version:
                lost.append(f"card {pk}: version {version}, expected {expected_version}")
            elif writes and address != writes[-1][1]:
                lost.append(f"card {pk}: address {address!r}, last accepted {writes[-1][1]!r}")
        locked_in_log = log.count(LOCKED)
        errors_500 = log.count("Internal Server Error")
        if args.pg:
            connection.close()

        print()
        print(
            f"requests: {tally.requests:,} in {elapsed:.1f} s = {tally.requests / elapsed:,.0f}"
            " requests/s"
        )
        for what, n in sorted(tally.counts.items()):
            print(f"  {what}: {n:,}")
        print(f"errors: {sum(tally.errors.values())}  {dict(tally.errors) or ''}")
        for sample in tally.samples:
            print(f"  e.g. {sample}")
        print(
            f'"database is locked": {tally.locked} in responses, {locked_in_log} in the '
            f"server's log; server errors logged: {errors_500}"
        )
        print(
            f"duplicate contacts: {duplicates}; accepted keys without their contact: "
            f"{len(missing)}; contacts beyond the accepted keys: {unaccounted}"
        )
        print(f"lost updates: {len(lost)}  {lost[:5] or ''}")
        for code, rc, seconds, tail in imports:
            line = tail.strip().splitlines()[-1] if tail.strip() else ""
            print(f"import into {code}: exit {rc} in {seconds:.1f} s  {line[:120]}")
        if not imports:
            print("no import ran (raise --seconds)")
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(30)
        from django.db import connections

        connections.close_all()
        if args.pg:
            pg_admin(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        if os.environ.get("BENCH_KEEP") == "1":
            print(f"data kept in {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
