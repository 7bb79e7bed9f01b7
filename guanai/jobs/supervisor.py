"""Keep the background worker running under `guanai serve` and `guanai demo`.

A worker can die — killed by the kernel for memory, a crash in native code — and then imports
and letters wait for ever. The supervisor runs `guanai worker` as a child process and starts it
again when it exits, waiting 1, 2, 4 … up to 60 seconds between quick deaths (back to 1 after
a minute of good health), and logs one line each time. The new worker marks failed the job
the dead one was running (jobs.services.reap_dead_jobs).
"""

import logging
import signal
import subprocess
import sys
import threading
import time

logger = logging.getLogger(__name__)
WORKER = [sys.executable, "-m", "guanai", "worker"]


def describe(code: int) -> str:
    """An exit status in words: "退出码 1", "被信号 SIGKILL 终止"."""
    if code < 0:
        try:
            return f"被信号 {signal.Signals(-code).name} 终止"
        except ValueError:
            return f"被信号 {-code} 终止"
    return f"退出码 {code}"


class Supervisor:
    """Run `command` in a thread of its own, restarting it with backoff until `stop()`."""

    def __init__(
        self,
        command: list[str] | None = None,
        *,
        min_delay: float = 1.0,
        max_delay: float = 60.0,
        healthy_after: float = 60.0,
    ):
        self.command = command or WORKER
        self.min_delay, self.max_delay, self.healthy_after = min_delay, max_delay, healthy_after
        self.restarts = 0
        self.process: subprocess.Popen | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, name="worker-supervisor", daemon=True)

    def start(self) -> "Supervisor":
        self.thread.start()
        return self

    def _run(self) -> None:
        delay = self.min_delay
        while True:
            with self._lock:
                if self._stop.is_set():
                    return
                started = time.monotonic()
                # Its own session: Ctrl+C in the terminal reaches `serve`/`demo`, which stop
                # the worker themselves, instead of killing it first and looking like a death.
                self.process = subprocess.Popen(self.command, start_new_session=True)
            code = self.process.wait()
            if self._stop.is_set():
                return
            if time.monotonic() - started >= self.healthy_after:
                delay = self.min_delay
            self.restarts += 1
            logger.warning(
                "后台任务进程意外退出（%s），%g 秒后重启（第 %d 次）",
                describe(code),
                delay,
                self.restarts,
            )
            if self._stop.wait(delay):
                return
            delay = min(delay * 2, self.max_delay)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop restarting and ask the worker to stop (SIGTERM: it stops after the job it is
        running); kill it after `timeout` seconds — the next worker marks that job failed."""
        with self._lock:
            self._stop.set()
            process = self.process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.thread.join(timeout)
