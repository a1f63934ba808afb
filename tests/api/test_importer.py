"""Reading and validating an order export (no database involved)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.import_cells import OUTCOMES, parse_number, parse_time
from api.importer import read_export, write_rejects
from dispatch.model import FailureCause, OrderStatus

MOSCOW = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 6, 1, tzinfo=UTC)  # when the import started
HEADER = "phone,requested_at,outcome,fare,pickup_address,pickup_lat,pickup_lon\n"


def write(tmp_path: Path, body: str, header: str = HEADER, encoding: str = "utf-8") -> Path:
    path = tmp_path / "export.csv"
    path.write_text(header + body, encoding=encoding)
    return path


def test_good_rows_are_read_with_normalised_phones_and_utc_times(tmp_path: Path) -> None:
    """National and international spellings agree; naive times are read in the given zone."""
    path = write(
        tmp_path,
        "8 (912) 345-67-89,2026-05-01 08:00,completed,350,Lenina 5,56.84,60.61\n"
        '+7 912 345 67 89,01.05.2026 09:30,no_car,,"Mira 1, pod. 2",56.85,60.62\n',
    )
    export = read_export(path, "RU", MOSCOW)
    assert export.problems == [] and not export.fatal
    first, second = export.rows
    assert first.e164 == second.e164 == "+79123456789"
    assert first.requested_at == datetime(2026, 5, 1, 5, 0, tzinfo=UTC)
    assert (first.status, first.cause, first.fare) == (OrderStatus.COMPLETED, None, 350.0)
    assert (second.status, second.cause) == (OrderStatus.REJECTED, FailureCause.NO_CAR)
    assert second.address == "Mira 1, pod. 2" and second.line == 3


def test_every_problem_of_every_row_is_listed(tmp_path: Path) -> None:
    """Each bad cell is reported as file:line:column: problem, all at once."""
    path = write(
        tmp_path,
        "12,yesterday,completed,,Lenina 5,91,60.61\n"
        "89123456789,2026-05-01T08:00:00Z,teleported,abc,Lenina 5,56.8,xyz\n"
        "89123456789,2026-05-01T09:00:00Z,completed,100,Lenina 5,56.8,60.6\n",
    )
    export = read_export(path, "RU", UTC)
    rendered = [problem.render("export.csv") for problem in export.problems]
    assert rendered[0].startswith("export.csv:2:phone: '12' is not a phone number")
    assert {(p.line, p.column) for p in export.problems} == {
        (2, "phone"),
        (2, "requested_at"),
        (2, "pickup_lat"),
        (3, "outcome"),
        (3, "fare"),
        (3, "pickup_lon"),
    }
    assert [row.line for row in export.rows] == [4]
    assert sorted(export.rejected) == [2, 3]


def test_withheld_numbers_import_as_anonymous_orders(tmp_path: Path) -> None:
    """A withheld number is not a problem: the order is kept without a customer."""
    path = write(tmp_path, "anonymous,1714550400,abandoned,,,56.8,60.6\n")
    (row,) = read_export(path, "RU", UTC).rows
    assert row.e164 is None and row.cause is FailureCause.ABANDONED
    assert row.requested_at == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


def test_missing_required_columns_are_fatal(tmp_path: Path) -> None:
    """Without a required column nothing can be imported, whatever the rows say."""
    path = write(tmp_path, "89123456789,2026-05-01,completed\n", header="phone,requested_at,outcome\n")
    export = read_export(path, "RU", UTC)
    assert export.fatal and export.rows == []
    assert {(p.line, p.column) for p in export.problems} == {(1, "pickup_lat"), (1, "pickup_lon")}


def test_semicolons_bom_and_decimal_commas(tmp_path: Path) -> None:
    """A Russian Excel export (BOM, `;` separated, decimal commas) reads the same."""
    header = "Phone;Requested_At;Outcome;Fare;Pickup_Lat;Pickup_Lon;External_ID\n"
    path = write(
        tmp_path,
        "89123456789;01.05.2026 08:00;completed;350,50;56,84;60,61;A-17\n",
        header=header,
        encoding="utf-8-sig",
    )
    (row,) = read_export(path, "RU", UTC).rows
    assert row.fare == 350.5 and row.lat == 56.84 and row.key == "import:A-17"


def test_short_rows_and_duplicates_are_problems(tmp_path: Path) -> None:
    """A row with the wrong number of fields, or the same order twice, is rejected."""
    path = write(
        tmp_path,
        "89123456789,2026-05-01T08:00:00Z,completed,100,Lenina 5,56.8,60.6\n"
        "89123456789,2026-05-01T08:00:00Z\n"
        "+79123456789,2026-05-01T08:00:00Z,completed,100,Lenina 5,56.8,60.6\n",
    )
    export = read_export(path, "RU", UTC)
    assert [(p.line, p.column) for p in export.problems] == [(3, "row"), (4, "requested_at")]
    assert "line 2" in export.problems[1].message


@pytest.mark.parametrize("encoding", ["cp1251", "koi8_r", "utf-16"])
def test_a_russian_excel_export_in_its_own_code_page_is_read(tmp_path: Path, encoding: str) -> None:
    """Russian Excel saves cp1251; the encoding is detected and said, the text is right."""
    path = write(tmp_path, "89123456789,2026-05-01,completed,1,Ленина 5,56.8,60.6\n", encoding=encoding)
    export = read_export(path, "RU", UTC)
    assert export.problems == [] and export.encoding.replace("-", "_") == encoding.replace("-", "_")
    assert export.rows[0].address == "Ленина 5"


def test_an_undecodable_file_is_fatal_with_a_way_out(tmp_path: Path) -> None:
    """Bytes no code page explains are refused as a whole, and the problem says how to re-save."""
    path = tmp_path / "export.csv"
    path.write_bytes(HEADER.encode() + bytes(range(0x80, 0x100)) * 4 + b"\x00\x81\x8d\x8f\x90\x9d")
    export = read_export(path, "RU", UTC)
    assert export.fatal and export.problems[0].column == "file"
    assert "re-save it as UTF-8" in export.problems[0].message


def test_rejects_file_keeps_the_rows_and_their_problems(tmp_path: Path) -> None:
    """The rejects file has the line, the problems and the original cells of each bad row."""
    path = write(tmp_path, "12,2026-05-01,completed,100,x,56.8,60.6\n")
    export = read_export(path, "RU", UTC)
    rejects = tmp_path / "rejects.csv"
    assert write_rejects(rejects, export) == 1
    lines = rejects.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "line,problems," + HEADER.strip()
    assert lines[1].startswith("2,phone: '12' is not a phone number") and lines[1].endswith(
        ",12,2026-05-01,completed,100,x,56.8,60.6"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-05-01T08:00:00+03:00", datetime(2026, 5, 1, 5, 0, tzinfo=UTC)),
        ("2026-05-01T08:00:00Z", datetime(2026, 5, 1, 8, 0, tzinfo=UTC)),
        ("2026-05-01 08:00", datetime(2026, 5, 1, 5, 0, tzinfo=UTC)),
        ("01.05.2026 08:00:30", datetime(2026, 5, 1, 5, 0, 30, tzinfo=UTC)),
        ("1777622400", datetime(2026, 5, 1, 8, 0, tzinfo=UTC)),
    ],
)
def test_time_formats(text: str, expected: datetime) -> None:
    """ISO 8601, day-first and unix times all parse; naive ones in the given zone."""
    assert parse_time(text, MOSCOW) == expected


@pytest.mark.parametrize("text", ["", "soon", "31.02.2026", "1970-01-01T00:00:00Z", "12"])
def test_bad_times(text: str) -> None:
    """Unreadable, impossible or implausibly old times are problems with a message."""
    with pytest.raises(ValueError, match=r"."):
        parse_time(text, UTC)


@given(st.text(max_size=20))
def test_parse_number_never_returns_out_of_range(text: str) -> None:
    """Any text is either a finite number inside the range or a ValueError."""
    try:
        value = parse_number(text, -90.0, 90.0)
    except ValueError:
        return
    assert -90.0 <= value <= 90.0


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300), st.sampled_from([",", ";", "\t"]))
def test_any_file_content_gives_problems_not_exceptions(body: str, separator: str) -> None:
    """Whatever the file holds, reading it returns rows and problems and never raises."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.csv"
        path.write_text(HEADER.replace(",", separator) + body, encoding="utf-8")
        export = read_export(path, "RU", UTC)
    assert len(export.rows) + len(export.rejected) <= body.count("\n") + body.count("\r") + 1
    assert all(problem.line >= 1 for problem in export.problems)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.from_regex(r"9[0-9]{9}", fullmatch=True),
            st.integers(min_value=1_000_000_000, max_value=2_000_000_000),
            st.sampled_from(sorted(OUTCOMES)),
            st.integers(min_value=0, max_value=1_000_000),
            st.floats(min_value=-90, max_value=90, allow_nan=False),
            st.floats(min_value=-180, max_value=180, allow_nan=False),
        ),
        max_size=8,
    )
)
def test_valid_rows_round_trip(rows: list[tuple[str, int, str, int, float, float]]) -> None:
    """Rows written from valid values read back as exactly those values."""
    import tempfile

    body = "".join(
        f"8{phone},{at},{outcome},{cents / 100:.2f},,{lat!r},{lon!r}\n"
        for phone, at, outcome, cents, lat, lon in rows
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.csv"
        path.write_text(HEADER + body, encoding="utf-8")
        export = read_export(path, "RU", UTC)
    by_line = {row.line: row for row in export.rows}
    for index, (phone, at, outcome, cents, lat, lon) in enumerate(rows):
        line = index + 2
        if line not in by_line:  # an unassigned mobile range, or the same row twice
            assert {p.column for p in export.problems if p.line == line} <= {"phone", "requested_at"}
            continue
        row = by_line[line]
        assert row.e164 == "+7" + phone and row.requested_at.timestamp() == at
        assert (row.status, row.cause) == OUTCOMES[outcome]
        assert row.fare == float(f"{cents / 100:.2f}") and (row.lat, row.lon) == (lat, lon)


@pytest.mark.parametrize(
    ("char", "column"), [("\x00", "pickup_address"), ("\x1b", "name"), ("\x07", "phone")]
)
def test_control_characters_are_row_problems_like_in_the_api(tmp_path: Path, char: str, column: str) -> None:
    """NUL (which PostgreSQL cannot store), ESC and BEL: the row is rejected, the file still reads."""
    header = "phone,requested_at,outcome,fare,pickup_address,pickup_lat,pickup_lon,name\n"
    cells = {"phone": "89123456789", "pickup_address": "Lenina 5", "name": "Anna"}
    cells[column] = cells[column][:3] + char + cells[column][3:]
    place, name = cells["pickup_address"], cells["name"]
    bad = f"{cells['phone']},2026-05-01T08:00:00Z,completed,100,{place},56.8,60.6,{name}\n"
    good = "89123456789,2026-05-02T08:00:00Z,completed,100,Mira 1,56.8,60.6,Anna\n"
    export = read_export(write(tmp_path, bad + good, header=header), "RU", UTC)
    assert [(p.line, p.column) for p in export.problems] == [(2, column)]
    assert "control character" in export.problems[0].message and not export.fatal
    assert [row.line for row in export.rows] == [3]


@pytest.mark.parametrize("when", ["2100-01-01T08:00:00Z", "9999-12-31T23:59:59Z", "2026-06-01T00:00:01Z"])
def test_times_after_the_import_started_are_refused(tmp_path: Path, when: str) -> None:
    """A history cannot hold the future: a trip dated 2100 would count as just happened for decades."""
    export = read_export(write(tmp_path, f"89123456789,{when},completed,100,x,56.8,60.6\n"), "RU", UTC, NOW)
    assert [(p.line, p.column) for p in export.problems] == [(2, "requested_at")]
    assert "after the import started" in export.problems[0].message


def test_a_time_just_before_the_start_is_kept(tmp_path: Path) -> None:
    """The boundary: the import's own start is still the past."""
    export = read_export(
        write(tmp_path, "89123456789,2026-06-01T00:00:00Z,completed,1,x,56.8,60.6\n"), "RU", UTC, NOW
    )
    assert export.problems == [] and export.rows[0].requested_at == NOW


def test_only_an_external_id_is_kept_as_the_stored_key(tmp_path: Path) -> None:
    """A key made of number, time and place would confirm a guessed number after erasure."""
    header = "phone,requested_at,outcome,fare,pickup_lat,pickup_lon,external_id\n"
    body = "89123456789,2026-05-01,completed,1,56.8,60.6,A-1\n89123456789,2026-05-02,completed,1,56.8,60.6,\n"
    first, second = read_export(write(tmp_path, body, header=header), "RU", UTC).rows
    assert first.stored_key == "import:A-1" and second.stored_key is None


def test_a_completed_order_without_a_fare_imports(tmp_path: Path) -> None:
    """`fare` is optional, as the format says: the valuation counts it at the population mean."""
    (row,) = read_export(write(tmp_path, "89123456789,2026-05-01,completed,,x,56.8,60.6\n"), "RU", UTC).rows
    assert row.status is OrderStatus.COMPLETED and row.fare is None
