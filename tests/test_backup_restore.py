"""The backup and restore drill (scripts/backup_restore_check) against the PostgreSQL server of the test run.

It runs only when DATABASE_URL is PostgreSQL (CI); the script creates and drops its own scratch databases.
"""

import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "backup_restore_check"
DATABASE_URL = os.environ.get("DATABASE_URL", "")


@pytest.mark.skipif(not DATABASE_URL.startswith(("postgres://", "postgresql://")),
                    reason="DATABASE_URL is not PostgreSQL: the backup/restore drill needs pg_dump and a server")
def test_a_dump_restores_into_an_empty_database_with_every_row():
    result = subprocess.run([str(SCRIPT)], capture_output=True, text=True, timeout=300,
                            env={**os.environ, "DATABASE_URL": DATABASE_URL})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK: row counts match" in result.stdout


def test_without_postgresql_the_drill_says_it_skipped():
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run([str(SCRIPT)], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0 and result.stdout.startswith("SKIP:")
