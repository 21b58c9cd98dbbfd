"""The README's run command as a newcomer gets it: SQLite, the demo company, the simulated PBX in the server process.

The only run of the real engine on SQLite, the newcomer's database: calls must be routed, answered and recorded
there too (one writer thread, no row locks, `UPDATE … FROM (VALUES …)` on SQLite).
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def manage(*args: str, env: dict, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "manage.py", *args], cwd=ROOT, env=env, **popen)


def test_the_newcomers_server_on_sqlite_routes_answers_and_records_simulated_calls(tmp_path):
    database = tmp_path / "newcomer.sqlite3"
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith(("DATABASE_", "TEST_DATABASE"))},
        "DATABASE_URL": f"sqlite:///{database}",
        "SIMULATED_PBX": "1",
        "SIMULATED_PBX_CALLS_PER_MINUTE": "240",
        "TELEPHONY_ENABLED": "true",
        "ARGON2_MEMORY_KIB": "1024",  # the demo's sign-ins, hashed fast: this test is about calls
    }
    for step in (["migrate", "--noinput"], ["seed_demo"]):
        assert manage(*step, env=env, stdout=subprocess.DEVNULL).wait(120) == 0, step
    log = tmp_path / "server.log"
    with log.open("w") as output:
        server = manage("runserver", f"127.0.0.1:{free_port()}", "--noreload", env=env, stdout=output, stderr=output)
    try:
        answered = wait_for_rows(
            database,
            # Agents pick up after 1.5–6 s; callers, or now and then the agents, hang up seconds later.
            "SELECT talk_seconds FROM calls_call WHERE state = 'ENDED' AND disposition = 'ANSWERED'",
            timeout=75,
            server=server,
        )
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
    text = log.read_text()
    assert "Traceback" not in text, text[-3000:]
    assert all(talk > 0 for (talk,) in answered), answered
    with sqlite3.connect(database) as db:
        moves = set(db.execute("SELECT from_state, to_state FROM accounts_activitychange"))
        unfinished = db.execute("SELECT COUNT(*) FROM calls_call WHERE state = 'ENDED' AND disposition = ''")
        assert unfinished.fetchone() == (0,), "every ended call has its disposition"
        # Each answered call's timeline, written by the one INSERT that finds the call by its channel id.
        timeline = db.execute(
            "SELECT e.kind FROM calls_callevent e JOIN calls_call c ON e.call_id = c.id"
            " WHERE c.id = (SELECT MIN(id) FROM calls_call WHERE disposition = 'ANSWERED') ORDER BY e.at, e.id"
        ).fetchall()
        kinds = [kind for (kind,) in timeline]
        assert "agent_ringing" in kinds and kinds.index("agent_ringing") < kinds.index("agent_answered"), kinds
    assert {("READY", "CALLING"), ("CALLING", "ON_CALL"), ("ON_CALL", "POST_PROCESSING")} <= moves


def wait_for_rows(database: Path, sql: str, *, timeout: float, server: subprocess.Popen) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, "the server stopped"
        with sqlite3.connect(database, timeout=5) as db:
            rows = db.execute(sql).fetchall()
        if rows:
            return rows
        time.sleep(1)
    raise AssertionError(f"nothing for {sql!r} within {timeout} s")
