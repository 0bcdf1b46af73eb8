"""The report's charts: pure functions from data to PNG bytes (matplotlib, Agg, no pyplot).

Figures are built as ``matplotlib.figure.Figure`` with an Agg canvas, so nothing touches
pyplot's global state or the process-wide backend. Colours are the Okabe-Ito palette
(distinguishable with the common colour-vision deficiencies); counts carry thousands separators.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

import pandas as pd
from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, DateFormatter, date2num
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator

from flowlens.model.net import PROTOCOL_NAMES
from flowlens.report import words

#: Okabe-Ito, colour-blind safe.
BLUE, ORANGE, GREEN, VERMILION = "#0072B2", "#E69F00", "#009E73", "#D55E00"
SKY, PURPLE, YELLOW, GREY = "#56B4E9", "#CC79A7", "#F0E442", "#999999"

ACTION_COLOURS = {"ACCEPT": BLUE, "REJECT": VERMILION}
CAUSE_COLOURS = {
    "sg": VERMILION,
    "nacl": BLUE,
    "bpa": PURPLE,
    "late_packet": ORANGE,
    "unknown": GREY,
}
STATUS_COLOURS = {
    "used": GREEN,
    "unused": VERMILION,
    "no_coverage": ORANGE,
    "unobservable": SKY,
    "no_members": GREY,
}
COVERAGE_COLOURS = {"ALL": GREEN, "ACCEPT-only": SKY, "REJECT-only": ORANGE, "none": VERMILION}
DPI = 110
TEXT = "#222222"


def _thousands(value: float, _pos: int | None = None) -> str:
    return f"{value:,.0f}"


def _bytes(value: float, _pos: int | None = None) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if abs(value) < 1000:
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1000
    return f"{value:,.1f} EB"


def _figure(width: float, height: float, rows: int = 1) -> tuple[Figure, list[Axes]]:
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = [fig.add_subplot(rows, 1, i + 1) for i in range(rows)]
    for ax in axes:
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(axis="y" if rows else "x", color="#e5e5e5", linewidth=0.8)
        ax.set_axisbelow(True)
        ax.tick_params(labelsize=9, colors=TEXT)
    return fig, axes


def _png(fig: Figure) -> bytes:
    """The figure as PNG, every text drawn literally.

    Labels carry AWS strings (SG names, descriptions) in which ``$`` is valid: mathtext would
    typeset ``$x$`` as maths and fail outright on an unbalanced one. Texts made so far are switched
    off one by one; tick labels, made while drawing, take the setting from the context.
    """
    for text in fig.findobj(Text):
        text.set_parse_math(False)
    buf = io.BytesIO()
    with rc_context({"text.parse_math": False}):
        fig.savefig(buf, format="png", dpi=DPI, facecolor="white", metadata={"Software": None})
    return buf.getvalue()


def _title(ax: Axes, text: str) -> None:
    ax.set_title(text, loc="left", fontsize=11, fontweight="bold", color=TEXT)


def traffic_over_time(
    traffic: pd.DataFrame, bin_seconds: int, start: datetime, end: datetime
) -> bytes:
    """Accepted vs rejected flow records and bytes per time bin, over the window [start, end)."""
    fig, (ax_f, ax_b) = _figure(9.5, 5.6, rows=2)
    minutes = bin_seconds // 60
    unit = f"{minutes} min" if minutes < 60 else f"{minutes // 60} h"
    for action, colour in ACTION_COLOURS.items():
        part = traffic[traffic["action"] == action]
        when = [datetime.fromtimestamp(int(s), tz=UTC) for s in part["bin_start"]]
        half = bin_seconds / 86400 * 0.45
        shift = timedelta(seconds=0 if action == "ACCEPT" else bin_seconds / 2)
        xs = date2num([w + shift for w in when])
        ax_f.bar(xs, part["flows"], width=half, color=colour, label=action.title(), align="edge")
        ax_b.bar(xs, part["bytes"], width=half, color=colour, label=action.title(), align="edge")
    log_f, log_b = spiky(traffic["flows"]), spiky(traffic["bytes"])
    _title(ax_f, f"Flow records per {unit} (UTC)" + (", log scale" if log_f else ""))
    ax_f.set_ylabel("flow records")
    if log_f:
        ax_f.set_yscale("log")
    else:
        ax_f.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax_f.yaxis.set_major_formatter(FuncFormatter(_thousands))
    ax_f.legend(frameon=False, fontsize=9, loc="upper right")
    _title(ax_b, f"Bytes per {unit} (UTC)" + (", log scale" if log_b else ""))
    ax_b.set_ylabel("bytes")
    if log_b:
        ax_b.set_yscale("log")
    ax_b.yaxis.set_major_formatter(FuncFormatter(_bytes))
    ax_b.legend(frameon=False, fontsize=9, loc="upper right")
    for ax in (ax_f, ax_b):
        ax.set_xlim(float(date2num(start)), float(date2num(end)))
        ax.xaxis.set_major_locator(AutoDateLocator(tz=UTC))
        ax.xaxis.set_major_formatter(DateFormatter("%m-%d %H:%M", tz=UTC))
    ax_b.set_xlabel("time (UTC)")
    return _png(fig)


def spiky(values: pd.Series, ratio: float = 20.0) -> bool:
    """Whether one spike would flatten the rest on a linear axis: the top bin
    over ``ratio`` × the median.

    >>> spiky(pd.Series([10, 12, 9, 11, 900])), spiky(pd.Series([10, 12, 9, 11, 40]))
    (True, False)
    """
    positive = values[values > 0]
    return len(positive) >= 3 and float(positive.max()) > ratio * float(positive.median())


def _stacked_barh(ax: Axes, table: pd.DataFrame, colours: Mapping[str, str], xlabel: str) -> None:
    """Horizontal bars, one per row of ``table`` (index = label), stacked by its columns."""
    left = [0.0] * len(table)
    labels = [str(i) for i in table.index]
    for col in table.columns:
        values = table[col].astype(float).tolist()
        if not any(values):
            continue
        ax.barh(
            labels,
            values,
            left=left,
            height=0.6,
            color=colours.get(str(col), GREY),
            label=str(col).replace("_", " "),
        )
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.invert_yaxis()
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", color="#e5e5e5", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.set_xlabel(xlabel)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.xaxis.set_major_formatter(FuncFormatter(_thousands))
    ax.legend(frameon=True, framealpha=0.9, edgecolor="none", fontsize=9, loc="best")
    for i, total in enumerate(left):
        ax.text(total, i, f" {total:,.0f}", va="center", fontsize=8, color=TEXT)


def _pivot(df: pd.DataFrame, label: str, by: str, value: str, order: Sequence[str]) -> pd.DataFrame:
    table = df.pivot_table(
        index=label, columns=by, values=value, aggfunc="sum", fill_value=0, sort=False
    )
    cols = [c for c in order if c in table.columns] + [c for c in table.columns if c not in order]
    table = table[cols]
    return table.loc[table.sum(axis=1).sort_values(ascending=False, kind="stable").index]


def port_label(protocol: object, port: object) -> str:
    if pd.isna(protocol):  # type: ignore[call-overload]
        return "?"
    name = PROTOCOL_NAMES.get(int(protocol), f"proto {int(protocol)}")  # type: ignore[call-overload]
    return name if pd.isna(port) or int(protocol) not in (6, 17) else f"{name}/{int(port)}"  # type: ignore[call-overload]


def top_rejected(sources: pd.DataFrame, ports: pd.DataFrame) -> bytes:
    """Top rejected sources and destination ports, each bar stacked by reject cause."""
    fig = Figure(
        figsize=(9.5, 3.0 + 0.25 * (len(sources.label.unique()) + ports.shape[0] // 2)),
        dpi=DPI,
        layout="constrained",
    )
    FigureCanvasAgg(fig)
    ax_s, ax_p = fig.subplots(1, 2)
    order = list(CAUSE_COLOURS)
    if not sources.empty:
        _stacked_barh(
            ax_s,
            _pivot(sources, "label", "cause", "records", order),
            CAUSE_COLOURS,
            "rejected records",
        )
    if not ports.empty:
        labelled = ports.assign(
            label=[port_label(p, d) for p, d in zip(ports.protocol, ports.dstport, strict=True)]
        )
        _stacked_barh(
            ax_p,
            _pivot(labelled, "label", "cause", "records", order),
            CAUSE_COLOURS,
            "rejected records",
        )
    _title(ax_s, "Top rejected sources, by cause")
    _title(ax_p, "Top rejected destination ports, by cause")
    for ax in (ax_s, ax_p):
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(labelsize=9, colors=TEXT)
    return _png(fig)


def rule_status_per_group(rules: pd.DataFrame, names: Mapping[str, str]) -> bytes:
    """Rules per SG by usage status (stacked horizontal bars)."""
    labelled = rules.assign(label=[_group_label(g, names) for g in rules.group_id], n=1)
    table = _pivot(labelled, "label", "status", "n", list(STATUS_COLOURS))
    fig, (ax,) = _figure(9.5, 1.6 + 0.38 * len(table))
    _stacked_barh(ax, table, STATUS_COLOURS, "rules")
    _title(ax, "Rules per security group, by usage status")
    return _png(fig)


def _group_label(group_id: str, names: Mapping[str, str]) -> str:
    name = names.get(group_id) or ""
    name = name if len(name) <= 28 else name[:27] + "…"
    return f"{group_id} ({name})" if name else group_id


def flows_per_rule(rules: pd.DataFrame, limit: int = 20) -> bytes:
    """Accepted initiating flow records per rule (the busiest ``limit``), coloured by status."""
    top = rules.sort_values(["flows", "rule_id"], ascending=[False, True]).head(limit)
    fig, (ax,) = _figure(9.5, 1.6 + 0.32 * len(top))
    labels = [f"{r.rule_id} · {r.direction}" for r in top.itertuples()]
    values = [max(int(v), 0) for v in top.flows]
    colours = [STATUS_COLOURS.get(str(s), GREY) for s in top.status]
    ax.barh(labels, [v if v > 0 else 0.8 for v in values], color=colours)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10))
    ax.xaxis.set_major_formatter(FuncFormatter(_thousands))
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", color="#e5e5e5", linewidth=0.8)
    for i, v in enumerate(values):
        ax.text(max(v, 0.8), i, f" {v:,}", va="center", fontsize=8, color=TEXT)
    ax.set_xlabel("accepted initiating flow records (log scale)")
    _title(ax, f"Flows per rule (top {len(top)}; colour = status)")
    return _png(fig)


def exposure_before_after(before: Mapping[str, int], after: Mapping[str, int]) -> bytes:
    """Addresses × ports allowed, before and after the plan; keys are e.g. ``ingress_ipv4``."""
    fig = Figure(figsize=(9.5, 3.6), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    for i, family in enumerate(("ipv4", "ipv6")):
        ax = fig.add_subplot(1, 2, i + 1)
        ax.spines[["top", "right"]].set_visible(False)
        xs = [0, 1]
        for j, (label, data, colour) in enumerate(
            (("before", before, ORANGE), ("after plan", after, BLUE))
        ):
            vals = [float(data[f"{d}_{family}"]) for d in ("ingress", "egress")]
            ax.bar(
                [x + (j - 0.5) * 0.38 for x in xs],
                [max(v, 1.0) for v in vals],
                width=0.38,
                color=colour,
                label=label,
            )
            for x, v in zip(xs, vals, strict=True):
                ax.text(
                    x + (j - 0.5) * 0.38,
                    max(v, 1.0),
                    words.count(int(v)),
                    ha="center",
                    va="bottom",
                    fontsize=8,
                )
        ax.set_yscale("log")
        ax.set_xticks(xs, ["ingress", "egress"])
        ax.set_ylabel("address × port pairs (log scale)")
        ax.yaxis.set_major_locator(LogLocator(base=10, numticks=6))
        ax.yaxis.set_major_formatter(
            FuncFormatter(lambda v, _p: words.count(int(v)) if v >= 1 else "")
        )
        ax.grid(axis="y", color="#e5e5e5", linewidth=0.8)
        ax.set_axisbelow(True)
        _title(ax, f"Exposure, {family.replace('ip', 'IP')}")
        ax.legend(frameon=False, fontsize=9)
    return _png(fig)


def coverage_per_subnet(coverage: pd.DataFrame, labels: Mapping[str, str]) -> bytes:
    """ENIs per subnet by flow-log coverage class."""
    named = coverage.assign(label=[labels.get(s, s) for s in coverage.subnet_id])
    table = _pivot(named, "label", "coverage", "enis", list(COVERAGE_COLOURS))
    fig, (ax,) = _figure(9.5, 1.6 + 0.38 * len(table))
    _stacked_barh(ax, table, COVERAGE_COLOURS, "network interfaces (ENIs)")
    _title(ax, "Flow-log coverage of ENIs, per subnet")
    return _png(fig)
