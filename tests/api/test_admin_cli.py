"""`keepcab db | keys | operators | import` against SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from sqlalchemy import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from api.auth import authenticate, login_operator
from api.cli import attach_admin_commands
from api.db import current_revision, head_revision, make_engine
from api.models import Order

NOW = datetime(2026, 6, 1, tzinfo=UTC)
HEADER = "phone,requested_at,outcome,fare,pickup_lat,pickup_lon\n"


@pytest.fixture(scope="module")
def cli() -> typer.Typer:
    root = typer.Typer()

    @root.callback()
    def _root() -> None:
        """Test root."""

    attach_admin_commands(root)
    return root


def run(cli: typer.Typer, *args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), input=input)
    return result.exit_code, result.stdout, result.stderr


def test_db_upgrade_creates_a_fresh_sqlite_database(cli: typer.Typer, tmp_path: Path) -> None:
    """`keepcab db upgrade` on an empty file leaves it at the head revision."""
    url = f"sqlite:///{tmp_path}/fresh.db"
    code, out, _ = run(cli, "db", "upgrade", "--database-url", url)
    assert code == 0 and f"revision {head_revision()}" in out
    engine = make_engine(url)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_db_current_reports_both_revisions(cli: typer.Typer, tmp_path: Path) -> None:
    """`db current` reports both revisions; before and after an upgrade."""
    url = f"sqlite:///{tmp_path}/fresh.db"
    assert f"database empty, code {head_revision()}" in run(cli, "db", "current", "--database-url", url)[1]
    run(cli, "db", "upgrade", "--database-url", url)
    head = head_revision()
    assert f"database {head}, code {head}" in run(cli, "db", "current", "--database-url", url)[1]


def test_keys_create_prints_a_working_key_once(cli: typer.Typer, engine: Engine, database_url: str) -> None:
    """The printed key authenticates with its role; `keys list` never shows it."""
    code, out, err = run(
        cli, "keys", "create", "--role", "phone", "--name", "pbx", "--database-url", database_url
    )
    assert code == 0 and "not shown again" in err
    plaintext = out.strip()
    with Session(engine) as session:
        key = authenticate(session, plaintext, NOW)
        assert key is not None and key.role == "phone" and key.name == "pbx"
    code, listing, _ = run(cli, "keys", "list", "--database-url", database_url)
    assert code == 0 and key.key_id in listing and plaintext.split("_", 2)[2] not in listing
    assert run(cli, "keys", "revoke", key.key_id, "--database-url", database_url)[0] == 0
    with Session(engine) as session:
        assert authenticate(session, plaintext, NOW) is None
    assert run(cli, "keys", "revoke", "nope", "--database-url", database_url)[0] == 1


def test_driver_keys_need_a_driver(cli: typer.Typer, engine: Engine, database_url: str) -> None:
    """`--role driver` without `--driver` (or a bad role) is a usage error."""
    assert run(cli, "keys", "create", "--role", "driver", "--database-url", database_url)[0] == 2
    assert run(cli, "keys", "create", "--role", "god", "--database-url", database_url)[0] == 2


def test_operators_create_asks_for_the_password(cli: typer.Typer, engine: Engine, database_url: str) -> None:
    """The password comes from a hidden prompt with confirmation and then logs in."""
    args = ["operators", "create", "olga", "--extension", "101", "--database-url", database_url]
    code, out, _ = run(cli, *args, input="long-password\nlong-password\n")
    assert code == 0 and "created operator olga" in out
    with Session(engine) as session:
        assert login_operator(session, "olga", "long-password", NOW, 60) is not None
    refused = ["operators", "create", "pbx", "--role", "phone", "--database-url", database_url]
    assert run(cli, *refused, input="long-password\nlong-password\n")[0] == 2


def test_operators_list_passwd_disable(cli: typer.Typer, engine: Engine, database_url: str) -> None:
    """Accounts are listed without secrets; passwd and disable act on them or exit 1 if unknown."""
    url = ["--database-url", database_url]
    run(cli, "operators", "create", "pavel", "--role", "analyst", *url, input="pavel-pass-1\npavel-pass-1\n")
    code, listing, _ = run(cli, "operators", "list", *url)
    assert code == 0 and "pavel\tanalyst\tactive" in listing and "scrypt" not in listing
    assert run(cli, "operators", "passwd", "pavel", *url, input="pavel-pass-2\npavel-pass-2\n")[0] == 0
    with Session(engine) as session:
        assert login_operator(session, "pavel", "pavel-pass-2", NOW, 60) is not None
    assert run(cli, "operators", "disable", "pavel", *url)[0] == 0
    assert "pavel\tanalyst\tdisabled" in run(cli, "operators", "list", *url)[1]
    assert run(cli, "operators", "disable", "nobody", *url)[0] == 1
    assert run(cli, "operators", "passwd", "nobody", *url, input="whatever-1\nwhatever-1\n")[0] == 1


def test_import_refuses_a_file_with_any_bad_row(
    cli: typer.Typer, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    """One bad row: nothing imported, exit 1, every problem as file:line:column."""
    path = tmp_path / "orders.csv"
    path.write_text(
        HEADER + "89123456789,2026-05-01,completed,100,56.8,60.6\n12,2026-05-01,completed,x,56.8,60.6\n"
    )
    code, _, err = run(cli, "import", "orders", str(path), "--database-url", database_url)
    assert code == 1
    assert f"{path}:3:phone: '12' is not a phone number" in err and f"{path}:3:fare:" in err
    with Session(engine) as session:
        assert session.exec(select(Order)).all() == []


def test_import_skip_bad_imports_the_rest(
    cli: typer.Typer, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    """`--skip-bad` imports good rows and writes bad ones (with problems) to the rejects file."""
    path, rejects = tmp_path / "orders.csv", tmp_path / "rejects.csv"
    path.write_text(
        HEADER + "89123456789,2026-05-01,completed,100,56.8,60.6\n12,2026-05-01,completed,1,56.8,60.6\n"
        "+79123456789,2026-05-02,no_car,,56.8,60.6\n"
    )
    args = ["import", "orders", str(path), "--skip-bad", str(rejects), "--timezone", "Europe/Moscow"]
    code, out, err = run(cli, *args, "--database-url", database_url)
    assert code == 0, err
    assert "imported 2 order(s)" in out and "1 new customer(s)" in out
    assert rejects.read_text().splitlines()[1].startswith("3,phone:")
    with Session(engine) as session:
        assert {order.status for order in session.exec(select(Order))} == {"completed", "rejected"}


def test_import_rejects_unknown_time_zone(cli: typer.Typer, tmp_path: Path) -> None:
    """A misspelt --timezone is a usage error before anything is read."""
    path = tmp_path / "orders.csv"
    path.write_text(HEADER)
    assert run(cli, "import", "orders", str(path), "--timezone", "Mars/Olympus")[0] == 2


def test_installed_keepcab_has_the_commands() -> None:
    """The `keepcab` entry point lists db, keys, operators and import."""
    result = subprocess.run(
        [sys.executable, "-c", "import sys; sys.argv=['keepcab','--help']; from api.cli import main; main()"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    for name in ("db", "keys", "operators", "import"):
        assert name in result.stdout


def test_a_driver_key_for_an_unknown_driver_is_a_clear_error(
    cli: typer.Typer, engine: Engine, database_url: str
) -> None:
    """Before D1 exists: a usage error naming --driver, not a foreign-key traceback."""
    code, _, err = run(
        cli, "keys", "create", "--role", "driver", "--driver", "D1", "--database-url", database_url
    )
    assert code == 2 and "no driver 'D1'" in err and "--driver" in err
    assert "Traceback" not in err and "IntegrityError" not in err


@pytest.mark.parametrize("bad", ["Lenina\x005", "Lenina\x1b5"])
def test_import_skip_bad_rejects_a_nul_row_instead_of_dying(
    cli: typer.Typer, engine: Engine, database_url: str, tmp_path: Path, bad: str
) -> None:
    """A NUL or ESC in a cell is a row problem: with --skip-bad the other rows import."""
    header = "phone,requested_at,outcome,fare,pickup_address,pickup_lat,pickup_lon\n"
    path, rejects = tmp_path / "orders.csv", tmp_path / "rejects.csv"
    path.write_text(
        header + f"89123456789,2026-05-01,completed,100,{bad},56.8,60.6\n"
        "89123456789,2026-05-02,completed,100,Mira 1,56.8,60.6\n"
        "89123456789,2100-05-02,completed,100,Mira 1,56.8,60.6\n"
    )
    args = ["import", "orders", str(path), "--skip-bad", str(rejects), "--database-url", database_url]
    code, out, err = run(cli, *args)
    assert code == 0, err
    assert "imported 1 order(s)" in out
    assert f"{path}:2:pickup_address: control character" in err
    assert f"{path}:4:requested_at:" in err and "after the import started" in err
    with Session(engine) as session:
        assert [order.pickup_address for order in session.exec(select(Order))] == ["Mira 1"]


def test_import_reads_a_cp1251_export_and_says_so(
    cli: typer.Typer, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    """Russian Excel's CSV (cp1251) imports with its Cyrillic intact; the encoding is named."""
    path = tmp_path / "orders.csv"
    text = "phone;requested_at;outcome;fare;pickup_address;pickup_lat;pickup_lon\n"
    text += "89123456789;01.05.2026 08:00;completed;350;улица Ленина 5;56,8;60,6\n"
    path.write_bytes(text.encode("cp1251"))
    code, _, err = run(cli, "import", "orders", str(path), "--database-url", database_url)
    assert code == 0, err
    assert "read as cp1251" in err
    with Session(engine) as session:
        assert [order.pickup_address for order in session.exec(select(Order))] == ["улица Ленина 5"]
