"""Pure: AWS-sourced text made safe to show, where a character can act instead of being read.

Names, descriptions and tags come from whoever can edit an AWS resource. Control characters
(terminal escape sequences start with ESC) and the Unicode bidirectional controls (U+202E turns
``exe.txt`` into what reads as ``txt.exe``) are shown as escapes — ``\\x1b``, ``\\u202e`` — in
the HTML report, the Markdown summary and ``flowlens sql``'s terminal formats. The text is
otherwise unchanged, so an id or a name still reads (and searches) as itself.

>>> show_controls("web\\u202egpj.exe")
'web\\\\u202egpj.exe'
>>> show_controls("\\x1b[31mred")
'\\\\x1b[31mred'
>>> show_controls("plain café 10.0.0.0/8")
'plain café 10.0.0.0/8'
"""

from __future__ import annotations

import re

#: C0 and C1 controls and DEL, and the line/paragraph separators (they break a table row as a
#: newline does).
_CONTROLS = "\x00-\x1f\x7f-\x9f\u2028\u2029"
#: The bidi embeddings/overrides/isolates and marks.
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[{_CONTROLS}{_BIDI}]")
_CONTROL_ONLY = re.compile(f"[{_CONTROLS}]")


def _escape(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def show_controls(text: str, *, bidi: bool = True) -> str:
    """``text`` with every control (and, unless ``bidi`` is false, bidi)
    character written as its escape.

    The HTML report marks bidi characters its own way (a visible ``[U+202E]``), so it passes
    ``bidi=False``.
    """
    return (_UNSAFE if bidi else _CONTROL_ONLY).sub(_escape, text)
