"""Two gunicorn instances behind one port, and a worker started on its own (issue #19).

Nothing of a user's state lives in a web process (docs/deploy.md, "Past one machine"): a
round-robin TCP proxy (asyncio, below) sends each new connection to the next of two gunicorn
instances; a login through one keeps its session through the other, a change made through one
is read through the other, and a roster import started through one is run by `guanai worker`
started separately. Each request opens its own connection, so the proxy alternates, and it
records which instance answered each one.

The processes share the test's database: on PostgreSQL the test database itself (the test
commits: transactional_db); on SQLite a file copy of the in-memory test database (the backup
API), in a data directory of their own, with the test's secret and field keys.
"""

import asyncio
import csv
import datetime as dt
import http.client
import io
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from guanai.testing import new_id_number

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Two-Processes-2026"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RoundRobin:
    """A TCP proxy on one port: connection n goes to backends[n % len(backends)]."""

    def __init__(self, backends: list[int]) -> None:
        self.backends = backends
        self.port = free_port()
        self.served: list[int] = []  # backend port of each accepted connection
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert self.ready.wait(10)

    async def _pipe(self, reader, writer) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def _handle(self, client_reader, client_writer) -> None:
        backend = self.backends[len(self.served) % len(self.backends)]
        self.served.append(backend)
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", backend)
        await asyncio.gather(
            self._pipe(client_reader, upstream_writer), self._pipe(upstream_reader, client_writer)
        )

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", self.port)
        )
        self.ready.set()
        self.loop.run_forever()
        # stopped: no new connections, and the pipes still open end before the loop closes
        server.close()
        pipes = asyncio.all_tasks(self.loop)
        for task in pipes:
            task.cancel()
        self.loop.run_until_complete(asyncio.gather(*pipes, return_exceptions=True))
        self.loop.close()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


class Browser:
    """Cookies and CSRF over plain HTTP, a new connection per request."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes = b"", headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Connection": "close", **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if "csrftoken" in self.cookies and method != "GET":
            headers["X-CSRFToken"] = self.cookies["csrftoken"]
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        content = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            for key, morsel in SimpleCookie(header).items():
                self.cookies[key] = morsel.value
        conn.close()
        return response.status, response.headers, content

    def json(self, method: str, path: str, payload=None):
        body = json.dumps(payload).encode() if payload is not None else b""
        status, _, content = self.request(
            method, path, body, {"Content-Type": "application/json"} if body else {}
        )
        return status, json.loads(content) if content else None


def roster(rows: int) -> bytes:
    out = io.StringIO()
    fields = ["姓名", "性别", "身份证号", "年级", "班级", "父亲状况", "母亲状况", "监护人姓名"]
    writer = csv.DictWriter(out, fieldnames=fields)
    writer.writeheader()
    for i in range(rows):
        writer.writerow(
            {
                "姓名": f"双进程{i}",
                "性别": "男",
                "身份证号": new_id_number(dt.date(2016, 5, 1), "male"),
                "年级": "3",
                "班级": "1",
                "父亲状况": "外出务工",
                "母亲状况": "在家",
                "监护人姓名": "李奶奶",
            }
        )
    return out.getvalue().encode()


def multipart(fields: dict[str, str], filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: text/csv\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    for _ in range(600):
        if process.poll() is not None:
            raise AssertionError(f"process on {port} exited:\n{log.read_text()[-3000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing answers on {port}:\n{log.read_text()[-3000:]}")


@pytest.fixture
def shared_env(transactional_db, cast, tmp_path, settings):
    """The environment under which other processes see the test's database and keys."""
    from django.contrib.auth.hashers import make_password

    from guanai.accounts.models import User

    # the processes check passwords with the production hashers, not the suite's fast one
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    User.objects.filter(username="zx_leader").update(password=make_password(PASSWORD))
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "GUANAI_DB_REPLICA_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        PYTHONPATH=str(ROOT),
        GUANAI_DATA_DIR=str(data),
        GUANAI_SECRET_KEY=settings.SECRET_KEY,
        GUANAI_FIELD_KEY=settings.FIELD_KEY,
    )
    if connection.vendor == "sqlite":
        copy = sqlite3.connect(data / "guanai.sqlite3")
        connection.ensure_connection()
        connection.connection.backup(copy)
        copy.close()
    else:
        db = connection.settings_dict
        auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        env["DATABASE_URL"] = f"postgres://{auth}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return env


@pytest.fixture
def two_web_processes(shared_env, tmp_path):
    ports = [free_port(), free_port()]
    processes = []
    try:
        for port in ports:
            log = tmp_path / f"gunicorn-{port}.log"
            process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "gunicorn", "guanai.wsgi:application"),
                    *("--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "4"),
                ],
                cwd=ROOT,
                env=shared_env,
                stdout=log.open("wb"),
                stderr=subprocess.STDOUT,
            )
            processes.append((process, port, log))
        for process, port, log in processes:
            wait_for_port(port, process, log)
        proxy = RoundRobin(ports)
        try:
            yield proxy
        finally:
            proxy.stop()
    finally:
        for process, _, _ in processes:
            process.terminate()
        for process, _, _ in processes:
            process.wait(30)


def test_a_session_and_a_change_cross_two_web_processes_and_a_separate_worker_runs_the_job(
    two_web_processes, shared_env, cast, tmp_path
):
    proxy = two_web_processes
    browser = Browser(proxy.port)

    status, _, page = browser.request("GET", "/accounts/login/")
    assert status == 200
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
    form = f"csrfmiddlewaretoken={token}&username=zx_leader&password={PASSWORD}"
    status, _, _ = browser.request(
        "POST",
        "/accounts/login/",
        form.encode(),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 302, "the login did not succeed"
    status, listing = browser.json("GET", "/api/v1/children")
    assert status == 200 and listing["count"] == 4  # 中心小学's cards: logged in
    # login page, login and the next request: three connections, both instances answered
    assert len(set(proxy.served[:3])) == 2

    child = cast["children"]["c31a"]
    status, card = browser.json(
        "PATCH", f"/api/v1/children/{child.pk}", {"version": child.version, "village": "双进程村"}
    )
    assert status == 200, card
    patched_by = proxy.served[-1]
    status, card = browser.json("GET", f"/api/v1/children/{child.pk}")
    assert status == 200 and card["village"] == "双进程村"
    assert proxy.served[-1] != patched_by

    body, content_type = multipart({"school": "HS-ZX"}, "花名册.csv", roster(3))
    status, _, content = browser.request(
        "POST", "/api/v1/imports", body, {"Content-Type": content_type}
    )
    assert status == 202, content
    job = json.loads(content)
    assert job["status"] == "queued"

    # the worker: a process of its own, started after the job was queued, exits when done
    worker_log = tmp_path / "worker.log"
    worker = subprocess.run(
        [sys.executable, "-m", "guanai", "worker", "--batch", "--no-startup-delay"],
        check=False,
        cwd=ROOT,
        env=shared_env,
        stdout=worker_log.open("wb"),
        stderr=subprocess.STDOUT,
        timeout=300,
    )
    assert worker.returncode == 0, worker_log.read_text()[-3000:]
    status, done = browser.json("GET", f"/api/v1/imports/{job['id']}")
    assert status == 200
    assert done["status"] == "succeeded", done
    assert done["summary"]["created"] == 3
    status, listing = browser.json("GET", "/api/v1/children?q=" + quote("双进程"))
    assert status == 200 and listing["count"] == 3
