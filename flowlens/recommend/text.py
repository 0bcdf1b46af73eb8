"""AWS-sourced strings made safe for the place they go in a rendered plan. Pure.

Rule descriptions, group names and even ids come from AWS (or from ``--from-json`` input) and
may hold anything: newlines, quotes, ``${…}`` that Terraform would interpolate, control and
bidi characters. Every renderer passes such a string through one of these on its way out.
"""

from __future__ import annotations

import unicodedata


def comment_text(value: str) -> str:
    r"""Text for a ``#`` comment line (shell or HCL): one line, no control or format characters.

    Anything that is not a printable character (newlines, escapes, U+202E and friends) becomes
    ``?``, so a value can never end the comment and start a command.

    >>> comment_text("sgr-1\ntouch /tmp/pwned")
    'sgr-1?touch /tmp/pwned'
    """
    return "".join(
        ch if ch.isprintable() and unicodedata.category(ch) not in ("Cf", "Zl", "Zp") else "?"
        for ch in str(value)
    )


_HCL_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def hcl_str(value: str) -> str:
    r"""A quoted HCL string whose value is exactly ``value``: no interpolation, no directive.

    ``${`` and ``%{`` start template sequences in HCL quoted strings; ``$${`` and ``%%{`` are
    their literal forms. Other control characters use ``\uNNNN``.

    >>> print(hcl_str('${path.module} %{ if true }y%{ endif } "q" \\'))
    "$${path.module} %%{ if true }y%%{ endif } \"q\" \\"
    """
    out = []
    text = str(value)
    for i, ch in enumerate(text):
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if ch in _HCL_ESCAPES:
            out.append(_HCL_ESCAPES[ch])
        elif ch in "$%" and nxt == "{":
            out.append(ch + ch)
        elif not ch.isprintable() or unicodedata.category(ch) in ("Cf", "Zl", "Zp"):
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def days_text(days: float) -> str:
    """``1 day``, ``15 days``, ``0.5 days``."""
    return f"{days:g} day" if days == 1 else f"{days:g} days"
