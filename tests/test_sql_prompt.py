"""The flowlens sql prompt (issue 16): its pure core without a TTY, then the real
prompt in a pseudo-terminal."""

from __future__ import annotations

import io
import os
import sys
import time
from pathlib import Path

import pytest
from analysis_fixtures import analysed_https_server

from flowlens import shell
from flowlens.cli import main
from flowlens.errors import UsageError

pexpect = pytest.importorskip("pexpect")

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return analysed_https_server(tmp_path_factory.mktemp("prompt") / "data")


# --- the pure core ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("buffer", "complete"),
    [
        ("SELECT 1", False),
        ("SELECT 1;", True),
        ("SELECT 1\n  FROM x;", True),
        ("SELECT 1 ;  -- done", True),
        ("SELECT ';'", False),
        ("SELECT 'a;", False),
        ('SELECT "a;b"', False),
        ("SELECT 1 -- ;", False),
        ("SELECT 1 /* ; */", False),
        ("SELECT $$ ; $$", False),
        ("SELECT ';';", True),
        ("", False),
        ("-- only a comment;", False),
    ],
)
def test_a_statement_is_complete_at_a_semicolon_outside_strings_and_comments(
    buffer: str, complete: bool
) -> None:
    assert shell.is_complete(buffer) is complete


def test_a_buffer_splits_into_its_statements() -> None:
    assert [s.strip() for s in shell.split("SELECT 1; SELECT ';' AS s;\nSELECT 3;")] == [
        "SELECT 1;",
        "SELECT ';' AS s;",
        "SELECT 3;",
    ]
    assert shell.split("SELEC nonsense;") == [
        "SELEC nonsense;"
    ]  # run whole, so DuckDB names the parse error


def test_dot_commands_parse_and_change_settings() -> None:
    s = shell.Settings()
    assert (s.mode, s.max_rows, s.timer) == ("table", shell.DEFAULT_MAX_ROWS, True)
    s, shown = shell.apply(s, shell.parse_dot(".mode CSV"))
    assert (s.mode, shown) == ("csv", "mode: csv")
    s, shown = shell.apply(s, shell.parse_dot(".maxrows 0"))
    assert (s.max_rows, shown) == (0, "maxrows: no limit")
    s, _ = shell.apply(s, shell.parse_dot(".timer off"))
    assert s.timer is False
    assert shell.parse_dot(".schema Rule_Usage") == shell.DotCommand(shell.Dot.SCHEMA, "Rule_Usage")
    assert shell.parse_dot(".exit").command is shell.Dot.QUIT
    for bad in [
        ".mode xml",
        ".maxrows -1",
        ".maxrows many",
        ".timer maybe",
        ".tables x",
        ".frobnicate",
    ]:
        with pytest.raises(UsageError):
            shell.parse_dot(bad)


def test_history_lives_outside_the_data_dir(tmp_path: Path) -> None:
    assert shell.history_path({}, tmp_path) == tmp_path / ".flowlens_history"
    assert (
        shell.history_path({"FLOWLENS_HISTORY": str(tmp_path / "h")}, Path("/nonexistent"))
        == tmp_path / "h"
    )
    assert shell.history_path({"FLOWLENS_HISTORY": ""}, tmp_path) is None
    assert shell.history_entry("SELECT 1\n   FROM x\n;") == "SELECT 1 FROM x ;"


def test_completions_match_case_insensitively() -> None:
    assert shell.completions("RULE_", ["rule_usage", "rule_matches", "flows"]) == [
        "rule_matches",
        "rule_usage",
    ]
    assert shell.completions(".ta", shell.DOT_NAMES) == [".tables"]


def test_a_script_on_stdin_runs_statement_by_statement(
    data: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    script = (
        "SELECT 41 + 1\n"
        "  AS answer;\n"
        "DROP VIEW flows;\n"
        ".mode json\n"
        "SELECT 'x' AS s;\n"
        "SELECT 'no semicolon at EOF' AS t"
    )
    monkeypatch.setattr(sys, "stdin", io.StringIO(script))
    capsys.readouterr()
    assert main(["sql", "--data-dir", str(data), "--format", "csv"]) == 2  # the refused DROP
    out = capsys.readouterr()
    assert "answer\n42\n" in out.out and '"s": "x"' in out.out and "no semicolon at EOF" in out.out
    assert "read-only" in out.err


def test_max_rows_on_a_single_query(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert (
        main(["sql", "--data-dir", str(data), "SELECT * FROM range(10) t(i)", "--max-rows", "3"])
        == 0
    )
    out = capsys.readouterr()
    assert out.out.splitlines() == ["i", "-", "0", "1", "2", "(3 of 10 rows)"]
    assert "7 more rows" in out.err


# --- the prompt in a pseudo-terminal ---------------------------------------------------------


class Session:
    def __init__(self, data: Path, history: Path) -> None:
        env = dict(
            os.environ,
            PYTHONPATH=str(REPO),
            FLOWLENS_HISTORY=str(history),
            TERM="dumb",
            NO_COLOR="1",
        )
        env.pop("FLOWLENS_DATA_DIR", None)
        self.child = pexpect.spawn(
            sys.executable,
            ["-m", "flowlens", "sql", "--data-dir", str(data)],
            env=env,
            encoding="utf-8",
            timeout=60,
            dimensions=(50, 200),
        )
        self.transcript = io.StringIO()
        self.child.logfile_read = self.transcript
        self.prompt()

    def prompt(self) -> str:
        try:
            self.child.expect_exact(shell.PROMPT)
        except pexpect.TIMEOUT:
            pytest.fail(f"no prompt; the session so far:\n{self.transcript.getvalue()}")
        return str(self.child.before)

    def run(self, line: str) -> str:
        self.child.sendline(line)
        return self.prompt()

    def quit(self) -> int:
        self.child.sendline(".quit")
        self.child.expect(pexpect.EOF)
        self.child.close()
        return int(self.child.exitstatus)


@pytest.fixture
def session(data: Path, tmp_path: Path) -> Session:
    s = Session(data, tmp_path / "history")
    yield s
    if s.child.isalive():
        s.child.terminate(force=True)


def test_prompt_runs_a_multi_line_statement_at_the_semicolon(session: Session) -> None:
    session.child.sendline("SELECT 41 + 1")
    session.child.expect_exact(shell.CONTINUATION)  # nothing ran yet: the statement continues
    out = session.run("  AS answer;")
    assert "answer" in out and "42" in out and "(1 row)" in out and "Run Time:" in out
    out = session.run("SELECT 1 AS a; SELECT 2 AS b;")  # two on one line: both run, in turn
    assert out.index("a\r\n") < out.index("b\r\n")
    session.child.sendeof()  # Ctrl-D leaves, with exit 0
    session.child.expect(pexpect.EOF)
    session.child.close()
    assert session.child.exitstatus == 0


def test_ctrl_c_cancels_a_long_query_and_the_line_and_keeps_the_prompt(session: Session) -> None:
    long_query = "SELECT COUNT(*) FROM range(1000000000) a, range(1000000000) b;"
    session.child.sendline(long_query)
    session.child.expect_exact(long_query)  # read by the prompt
    time.sleep(1.0)  # and running: it would take hours
    session.child.sendintr()
    assert "query cancelled" in session.prompt()
    session.child.send("SELECT 'half a line'")
    session.child.expect_exact(
        "half a line'"
    )  # typed and shown by the line editor, as a person sees it
    session.child.sendintr()  # at the prompt: drops the line
    session.prompt()
    assert "still here" in session.run("SELECT 'still ' || 'here' AS s;")
    assert session.child.isalive()
    assert session.quit() == 0


def test_dot_commands_at_the_prompt(session: Session) -> None:
    tables = session.run(".tables").split()
    assert {"flows", "rule_usage", "sg_rules", "findings", "conversations"} <= set(tables)
    schema = session.run(".schema rule_usage")
    assert any(line.split() == ["rule_id", "VARCHAR"] for line in schema.splitlines())
    assert "no table 'nope'" in session.run(".schema nope")
    assert "mode: csv" in session.run(".mode csv")
    assert "rule_id,status\r\nsgr-https,used" in session.run(
        "SELECT rule_id, status FROM rule_usage;"
    )
    session.run(".mode line")
    assert "rule_id = sgr-https" in session.run("SELECT rule_id FROM rule_usage;")
    session.run(".mode json")
    assert '"i": 0' in session.run("SELECT 0 AS i;")
    session.run(".mode table")
    assert "maxrows: 5" in session.run(".maxrows 5")
    out = session.run("SELECT * FROM range(100) t(i);")
    assert "(5 of 100 rows)" in out and "95 more rows" in out
    assert ".maxrows" in session.run(".help")
    assert "unknown command" in session.run(".frobnicate")
    assert session.quit() == 0


def test_default_row_limit_shows_how_many_more(session: Session) -> None:
    out = session.run("SELECT * FROM range(49637) t(i);")
    assert (
        f"({shell.DEFAULT_MAX_ROWS} of 49,637 rows)" in out
        and f"{49637 - shell.DEFAULT_MAX_ROWS:,} more rows" in out
    )
    assert session.quit() == 0


def test_history_is_saved_between_sessions(data: Path, tmp_path: Path) -> None:
    history = tmp_path / "history"
    files_before = {p: p.read_bytes() for p in data.rglob("*") if p.is_file()}
    first = Session(data, history)
    first.run("SELECT 1\n  AS one;")
    first.run(".tables")
    assert first.quit() == 0
    assert history.read_text(encoding="utf-8").splitlines() == [
        "SELECT 1 AS one;",
        ".tables",
        ".quit",
    ]
    assert history.stat().st_mode & 0o077 == 0  # queries are the user's own
    second = Session(data, history)
    second.child.send("\x1b[A\x1b[A\x1b[A")  # up-arrow three times: the first session's statement
    second.child.expect_exact("SELECT 1 AS one;")
    second.child.sendline("")
    assert "one" in second.prompt()
    assert second.quit() == 0
    assert {
        p: p.read_bytes() for p in data.rglob("*") if p.is_file()
    } == files_before  # the prompt wrote nothing there


def test_tab_completes_table_and_column_names(session: Session) -> None:
    session.child.send("SELECT COUNT(*) FROM rule_us\t")
    session.child.expect_exact("rule_usage")
    out = session.run(";")
    assert "count_star()" in out and "1" in out
    session.child.send("SELECT status_rea\t")
    session.child.expect_exact("status_reason")
    assert "status_reason" in session.run(" FROM rule_usage;")
    assert session.quit() == 0
