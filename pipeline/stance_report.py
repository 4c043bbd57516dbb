"""reports/stance_report.html: who stands where, as one self-contained page (no network, no scripts
from elsewhere), for people who would rather look than read a CSV.

A chart of each speaker's stance (the weight behind each label), a chart by camp when the target
has camps, a sortable table of speakers with their most confident evidence quote and its article,
and every speaker's stance per article. The page has no timestamp, so the same predictions give
the same bytes (DVC sees no change).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from html import escape
from typing import Any

from pipeline.config import TargetConfig
from pipeline.records import LABELS

COLOURS = {"support": "#2e7d32", "oppose": "#c62828", "neutral": "#8d8d8d"}
CHART_SPEAKERS = 40  # the most quoted; the table below lists everyone

STYLE = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;
color:#222}h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem}.muted{color:#666}
.counts span,.legend span{display:inline-block;margin-right:1.2rem}.dot{display:inline-block;width:.8em;height:.8em;border-radius:50%;
margin-right:.3em;vertical-align:-.05em}table{border-collapse:collapse;width:100%;font-size:14px}
th,td{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{cursor:pointer;background:#f6f6f6;position:sticky;top:0;user-select:none}th:after{content:" \\2195";color:#aaa}
td.num{text-align:right;font-variant-numeric:tabular-nums}.stance{font-weight:600}
.support{color:#2e7d32}.oppose{color:#c62828}.neutral{color:#666}q{font-style:italic}
svg text{font:12px system-ui,sans-serif}details{margin:.4rem 0}
"""

SORT_SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (header, column) {
    header.addEventListener("click", function () {
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var ascending = header.getAttribute("data-order") !== "asc";
      table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("data-order"); });
      header.setAttribute("data-order", ascending ? "asc" : "desc");
      rows.sort(function (a, b) {
        var x = a.cells[column].getAttribute("data-value") || a.cells[column].textContent;
        var y = b.cells[column].getAttribute("data-value") || b.cells[column].textContent;
        var nx = parseFloat(x), ny = parseFloat(y);
        var order = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""


def stacked_bars(rows: Sequence[tuple[str, dict[str, float]]], unit: str) -> str:
    """A horizontal stacked bar per (name, {label: amount}) as inline SVG."""
    if not rows:
        return "<p class='muted'>Nothing to chart.</p>"
    label_width, bar_width, height = 230, 560, 22
    largest = max(sum(values.values()) for _, values in rows) or 1.0
    parts = [f"<svg role='img' width='{label_width + bar_width + 90}' height='{height * len(rows) + 8}' "
             f"aria-label='stance by {unit}'>"]
    for index, (name, values) in enumerate(rows):
        y = index * height + 4
        short = name if len(name) <= 34 else name[:33] + "…"
        parts.append(f"<text x='{label_width - 8}' y='{y + 15}' text-anchor='end'>{escape(short)}</text>")
        x = float(label_width)
        for label in LABELS:
            width = bar_width * values.get(label, 0.0) / largest
            if width > 0:
                parts.append(f"<rect x='{x:.1f}' y='{y}' width='{width:.1f}' height='{height - 6}' "
                             f"fill='{COLOURS[label]}'><title>{escape(name)}: {label} "
                             f"{values.get(label, 0.0):.2f}</title></rect>")
                x += width
        total = sum(values.values())
        parts.append(f"<text x='{x + 6:.1f}' y='{y + 15}' class='muted'>{total:.2f}</text>")
    parts.append("</svg>")
    return "".join(parts)


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def legend() -> str:
    return "".join(f"<span><span class='dot' style='background:{COLOURS[label]}'></span>{label}</span>"
                   for label in LABELS)


def speaker_table(corpus: Sequence[dict[str, Any]]) -> str:
    columns = ["speaker", "role", "camp", "stance", "quotes", *[f"w. {label}" for label in LABELS],
               "evidence", "article"]
    head = "".join(f"<th>{escape(name)}</th>" for name in columns)
    body = []
    for row in corpus:
        cells = [escape(row["speaker"]), escape(row["speaker_role"] or ""), escape(row["camp"] or ""),
                 f"<span class='stance {row['stance']}'>{row['stance']}</span>"]
        numbers = [f"<td class='num' data-value='{row['quotes']}'>{row['quotes']}</td>",
                   *[f"<td class='num' data-value='{row[f'weight_{label}']}'>{row[f'weight_{label}']:.2f}</td>"
                     for label in LABELS]]
        evidence = (f"<q>{escape(row['evidence'])}</q> <span class='muted'>({row['evidence_label']}, "
                    f"{row['evidence_score']:.2f})</span>")
        body.append(f"<tr class='speaker'>{''.join(f'<td>{cell}</td>' for cell in cells)}{''.join(numbers)}"
                    f"<td>{evidence}</td><td>{escape(row['evidence_article_id'] or '')}</td></tr>")
    return (f"<table class='sortable' id='speakers'><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def camp_chart(target: TargetConfig, corpus: Sequence[dict[str, Any]]) -> str:
    """Speakers per stance in each camp of the target (and those matched to none)."""
    per_camp: dict[str, Counter] = defaultdict(Counter)
    for row in corpus:
        per_camp[row["camp"] or "(no camp named)"][row["stance"]] += 1
    order = [camp.name for camp in target.affiliations if camp.name in per_camp]
    order += [name for name in per_camp if name not in order]
    return stacked_bars([(name, {label: float(per_camp[name][label]) for label in LABELS}) for name in order],
                        "camp")


def by_article(articles: Sequence[dict[str, Any]]) -> str:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in articles:
        grouped[row["article_id"]].append(row)
    sections = []
    for article_id, rows in grouped.items():
        items = "".join(f"<li><b>{escape(row['speaker'])}</b>: <span class='stance {row['stance']}'>"
                        f"{row['stance']}</span> ({plural(row['quotes'], 'quote')}); "
                        f"<q>{escape(row['evidence'])}</q></li>" for row in rows)
        sections.append(f"<details><summary>{escape(article_id or '')} ({plural(len(rows), 'speaker')})</summary>"
                        f"<ul>{items}</ul></details>")
    return "".join(sections)


def render_report(target: TargetConfig, speakers: Sequence[dict[str, Any]],
                  predictions: Sequence[dict[str, Any]]) -> str:
    """The whole page, from the rows of speakers.csv and predictions.jsonl."""
    corpus = [row for row in speakers if row["scope"] == "corpus"]
    articles = [row for row in speakers if row["scope"] == "article"]
    stances = Counter(row["stance"] for row in corpus)
    unresolved = sum(1 for row in predictions if not row.get("speaker"))
    counts = "".join(f"<span><span class='dot' style='background:{COLOURS[label]}'></span>{stances[label]} "
                     f"{label}</span>" for label in LABELS)
    chart_rows = [(row["speaker"], {label: row[f"weight_{label}"] for label in LABELS})
                  for row in corpus[:CHART_SPEAKERS]]
    camps = (f"<h2>By camp</h2><p class='muted'>Speakers per stance in each camp of the target, as their "
             f"names and roles name it.</p>{camp_chart(target, corpus)}" if target.affiliations else "")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Stance report: {escape(target.name)}</title><style>{STYLE}</style></head>
<body>
<h1>Who stands where: {escape(target.name)}</h1>
<p class="muted">{escape(target.description)}</p>
<p class="counts">{plural(len(corpus), 'speaker')} across {plural(len({r['article_id'] for r in predictions}), 'article')}
and {plural(len(predictions), 'quote')} ({unresolved} without a resolved speaker): {counts}</p>
<h2>Stance by speaker</h2>
<p class="muted">The weight behind each label: the sum of the model's confidence over the speaker's quotes
(the {min(len(corpus), CHART_SPEAKERS)} most quoted speakers).</p>
<p class="legend">{legend()}</p>
{stacked_bars(chart_rows, "speaker")}
{camps}
<h2>Speakers</h2>
<p class="muted">Click a column to sort. The evidence is the speaker's most confident quote for the stance given.</p>
{speaker_table(corpus)}
<h2>By article</h2>
{by_article(articles)}
<script>{SORT_SCRIPT}</script>
</body></html>
"""


def render_note(title: str, note: str) -> str:
    """A page with nothing to chart, saying why (a labelled dataset's run has no extracted quotes)."""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Stance report: {escape(title)}</title><style>{STYLE}</style></head>
<body>
<h1>{escape(title)}</h1>
<p class="muted">{escape(note)}</p>
</body></html>
"""
