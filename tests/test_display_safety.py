"""AWS strings shown literally wherever they go (issue 14, items 8 and 10): ``$`` in chart labels
(mathtext), control and bidi characters in report.html, summary.md and ``flowlens sql`` output."""

from __future__ import annotations

import pandas as pd
import pytest

from flowlens import query
from flowlens.report import charts
from flowlens.report.html import esc
from flowlens.report.markdown import md as cell
from flowlens.textsafe import show_controls

PNG = b"\x89PNG"
#: Valid SG names in AWS (a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$*), each fatal to mathtext.
DOLLAR_NAMES = ["cost $5$ tier", "price$", "$\\frac{1}{0}$", "a$b$c$", "$x^{$"]


@pytest.mark.parametrize("name", DOLLAR_NAMES)
def test_a_dollar_in_an_sg_name_draws(name: str) -> None:
    rules = pd.DataFrame(
        {"group_id": ["sg-0123456789abcdef0", "sg-0123456789abcdef1"], "status": ["used", "unused"]}
    )
    png = charts.rule_status_per_group(
        rules, {"sg-0123456789abcdef0": name, "sg-0123456789abcdef1": name}
    )
    assert png.startswith(PNG)


@pytest.mark.parametrize("name", DOLLAR_NAMES)
def test_a_dollar_in_a_rule_label_draws(name: str) -> None:
    rules = pd.DataFrame(
        {
            "rule_id": [f"sgr-0abc {name}"],
            "direction": ["ingress"],
            "flows": [3],
            "status": ["used"],
        }
    )
    assert charts.flows_per_rule(rules).startswith(PNG)


BIDI = "invoice\u202egpj.exe"
ESCAPE = "\x1b]0;owned\x07\x1b[2J\x1b[31mred"


def test_html_shows_bidi_and_escape_sequences_as_escapes() -> None:
    assert (
        esc(BIDI) == 'invoice<span class="ctl">[U+202E]</span>gpj.exe'
    )  # the report's visible marker
    shown = esc(ESCAPE)
    assert "\x1b" not in shown and "\x07" not in shown
    assert shown == "\\x1b]0;owned\\x07\\x1b[2J\\x1b[31mred"
    assert esc({"Name": ESCAPE}) == "Name=\\x1b]0;owned\\x07\\x1b[2J\\x1b[31mred"
    assert esc("<b>\x00x</b>") == "&lt;b&gt;\\x00x&lt;/b&gt;"


def test_markdown_cells_show_them_as_escapes() -> None:
    assert "\u202e" not in cell(BIDI) and "\\u202e" in cell(BIDI)
    assert "\x1b" not in cell(ESCAPE)


@pytest.mark.parametrize("fmt", ["table", "line"])
def test_sql_terminal_formats_replace_control_characters(fmt: str) -> None:
    out = query.render(["name", "description"], [(BIDI, ESCAPE), ("two\nlines", "tab\there")], fmt)
    assert not any(ch in out for ch in ("\x1b", "\x07", "\u202e", "\t"))
    assert "invoice\\u202egpj.exe" in out and "two\\x0alines" in out


def test_sql_json_keeps_the_value_and_escapes_it() -> None:
    out = query.render(["name"], [(BIDI,)], "json")
    assert "\u202e" not in out and "\\u202e" in out


def test_ordinary_text_is_untouched() -> None:
    for text in ("web-prod (eu-west-1)", "café · 10.0.0.0/8", "日本語", "sg-0123456789abcdef0"):
        assert show_controls(text) == text
