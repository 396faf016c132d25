"""A throwaway PostgreSQL server for tests and benchmarks: Debian's binaries, a temp dir, a free port.

`PostgresCluster.start()` runs initdb in a new temp dir and starts the server on 127.0.0.1 with
its unix socket inside that dir; `stop()` stops it and deletes everything. initdb refuses to run
as root, so as root the server runs as the `postgres` system user (made by Debian's package) via
runuser. Durability is switched off (fsync, synchronous_commit): the data is thrown away anyway.
Install the binaries with `make postgres` (apt-get install postgresql).
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

from tests.helpers import free_port

SUPERUSER = "postgres"
_RUN_AS = "postgres"          # the system user the server runs as when the tests run as root
_START_ATTEMPTS = 3


def find_bindir() -> Path:
    """The newest installed server's bin dir (Debian: /usr/lib/postgresql/<version>/bin)."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise RuntimeError(
        "Expected PostgreSQL's server programs (initdb, pg_ctl), found none; "
        "run `make postgres` (apt-get install postgresql) first."
    )


class PostgresCluster:
    """One running throwaway server; hands out fresh databases by URL."""

    def __init__(self, root: Path, bindir: Path, run_as: str | None) -> None:
        self.root = root
        self.bindir = bindir
        self.run_as = run_as
        self.data = root / "data"
        self.port = 0

    @classmethod
    def start(cls) -> PostgresCluster:
        bindir = find_bindir()
        run_as = _RUN_AS if os.geteuid() == 0 else None
        root = Path(tempfile.mkdtemp(prefix="kb-postgres-"))
        if run_as:
            try:
                account = pwd.getpwnam(run_as)
            except KeyError:
                shutil.rmtree(root, ignore_errors=True)
                raise RuntimeError(
                    f"Expected a {run_as!r} system user to run PostgreSQL as (initdb refuses root), found none; "
                    "Debian's postgresql package creates it: run `make postgres`."
                ) from None
            os.chown(root, account.pw_uid, account.pw_gid)
        cluster = cls(root, bindir, run_as)
        try:
            cluster._run("initdb", "-D", str(cluster.data), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8",
                         "--locale=C", "--no-sync")
            cluster._serve()
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def _serve(self) -> None:
        """pg_ctl start on a free port; another process may grab the port first, so try a few."""
        for attempt in range(1, _START_ATTEMPTS + 1):
            self.port = free_port()
            options = (
                f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
            )
            try:
                self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w", "-t", "60",
                          "-o", options, "start")
                return
            except subprocess.CalledProcessError:
                if attempt == _START_ATTEMPTS:
                    raise RuntimeError(f"PostgreSQL did not start:\n{self.log_tail()}") from None

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bindir / program), *args]
        if self.run_as:
            command = ["runuser", "-u", self.run_as, "--", *command]
        subprocess.run(command, check=True, cwd=self.root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def log_tail(self, chars: int = 3000) -> str:
        log = self.root / "server.log"
        return log.read_text(errors="replace")[-chars:] if log.exists() else "(no server log)"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, prefix: str = "kb", template: str = "template1") -> str:
        """A new database, empty or a copy of `template`; returns its URL (the form KB_DATABASE_URL takes)."""
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        self._admin(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template)))
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[-1]
        if not re.fullmatch(r"\w+", name):
            raise ValueError(f"Expected a database URL made by create_database, got {url!r}")
        self._admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def _admin(self, statement: sql.Composable) -> None:
        with psycopg.connect(self.url(), autocommit=True, connect_timeout=10) as conn:
            conn.execute(statement)

    def stop(self) -> None:
        """Stop the server (immediately: nothing in it is kept) and delete its files."""
        if (self.data / "postmaster.pid").exists():
            try:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "-t", "30", "stop")
            except subprocess.CalledProcessError:
                time.sleep(0.5)  # it may have stopped by itself; the files go either way
        shutil.rmtree(self.root, ignore_errors=True)
