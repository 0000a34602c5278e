"""The explorer of report.html (docs/report.md, "Explorable HTML"): in headless Chromium with the report's
own Content-Security-Policy a search narrows the gap table, a header sorts it, a row opens its evidence;
the inline script runs only by its CSP hash; without scripts the static report stays as it was; hostile
evidence stays text; the cap holds and the page says where the rest is; the output is deterministic.

Chromium comes from the system, as in test_browser.py (whose probe these tests reuse: a probe page frames
the unchanged report.html, so the report keeps its CSP).
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import hashlib
import io
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from axe_core_python.base import AXE_SCRIPT
from report_helpers import GENERATED_AT, SAMPLES, assess_for_report, run_cli
from test_browser import AXE_RUNNER, CHROMIUM, probe
from test_hostile import build_hostile_bundle

from reporter.catalog.loader import load_library
from reporter.cli.report_cmd import REPORT_FILES
from reporter.report.explore import EXPORT, explorer, island_text
from reporter.report.formats import html as html_format
from reporter.report.interface import RenderContext, ReportInputs
from reporter.report.templating import render_document
from reporter.report.view.build import build_view
from reporter.store import explore as store_explore

FRAME = '<!DOCTYPE html><html><body><iframe id="screen" src="report.html" width="1280" height="900"></iframe>'
FRAME += "</body></html>"  # the probe adds its scripts before </body>
HOSTILE_ID = "</script><img src=x onerror=\"document.title='pwned'\">\u2028line\u2029para"
HOSTILE_MESSAGE = "<script>document.title='pwned2'</script><!-- <b>not bold</b> & more"

# Runs in the probe page; drives the framed report through its own controls.
INTERACT = """
var frame = document.getElementById("screen");
frame.addEventListener("load", function () {
  var doc = frame.contentDocument, win = frame.contentWindow;
  function cells(tr) { return Array.prototype.map.call(tr.cells, function (c) { return c.textContent; }); }
  function rows() { return Array.prototype.map.call(doc.querySelectorAll("#x-gaps-table tbody tr[data-row]"), cells); }
  function indexes() {
    return Array.prototype.map.call(doc.querySelectorAll("#x-gaps-table tbody tr[data-row]"),
                                    function (tr) { return Number(tr.getAttribute("data-row")); });
  }
  function count() { return doc.querySelector("#x-gaps .x-count").textContent; }
  function type(value) {
    var box = doc.getElementById("x-gaps-search");
    box.value = value;
    box.dispatchEvent(new win.Event("input"));
  }
  var out = {section_hidden: doc.getElementById("explore").hidden};
  out.heads = Array.prototype.map.call(doc.querySelectorAll("#x-gaps-table thead th"), function (th) {
    var b = th.querySelector("button"); return b ? b.getAttribute("data-name") : "";
  });
  out.all = count();
  type(QUERY);
  out.search = {count: count(), rows: indexes()};
  type("");
  var select = doc.getElementById("x-gaps-f-control_id");
  var option = Array.prototype.filter.call(select.options, function (o) { return o.textContent === CONTROL; })[0];
  select.value = option.value;
  select.dispatchEvent(new win.Event("change"));
  out.facet = {count: count(), rows: indexes()};
  select.value = "-1";
  select.dispatchEvent(new win.Event("change"));
  var sorter = doc.querySelector('#x-gaps .x-sort[data-name="record_id"]');
  sorter.click();
  out.asc = {rows: rows(), sort: sorter.parentNode.getAttribute("aria-sort")};
  sorter.click();
  out.desc = {rows: rows(), sort: sorter.parentNode.getAttribute("aria-sort")};
  doc.querySelector('#x-gaps .x-sort[data-name="risk"]').click();
  out.risk = {rows: indexes()};
  type(OPEN_QUERY);
  var first = doc.querySelector("#x-gaps-table tbody tr[data-row]");
  first.querySelector("button.x-open").click();
  var detail = doc.querySelector("#x-gaps-table tr.x-detail");
  out.opened = Number(first.getAttribute("data-row"));
  out.opened_cells = cells(doc.querySelector("#x-gaps-table tbody tr[data-row]"));
  out.detail = {};
  Array.prototype.forEach.call(detail.querySelectorAll("dd[data-name]"), function (dd) {
    out.detail[dd.getAttribute("data-name")] = dd.textContent;
  });
  out.fields = {};
  Array.prototype.forEach.call(detail.querySelectorAll("table.x-record tbody tr"), function (tr) {
    out.fields[tr.cells[0].textContent] = tr.cells[1].textContent;
  });
  out.title = doc.title;
  out.elements = {img: doc.querySelectorAll("img").length, script: doc.querySelectorAll("script").length,
                  svg_in_explore: doc.querySelectorAll("#explore svg").length,
                  b_in_explore: doc.querySelectorAll("#explore b").length};
  publish(out);
});
"""


def _report_html(inputs: ReportInputs) -> str:
    return html_format.render(RenderContext(inputs, build_view(inputs)))["report.html"].decode("utf-8")


@pytest.fixture(scope="module")
def report_html(q3_inputs: ReportInputs) -> str:
    """report.html as the html format writes it for the quick-start quarter (with the explorer)."""
    return _report_html(q3_inputs)


@pytest.fixture(scope="module")
def data(q3_inputs: ReportInputs) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(q3_inputs.exports[EXPORT])
    return document


def _table(document: dict[str, Any], table_id: str) -> tuple[list[str], list[list[Any]]]:
    (table,) = [t for t in document["tables"] if t["id"] == table_id]
    return [c["name"] for c in table["columns"]], table["rows"]


def _interact(html: str, tmp_path: Path, query: str, control: str, open_query: str) -> dict[str, Any]:
    (tmp_path / "report.html").write_text(html, encoding="utf-8")
    script = (
        f"var QUERY = {json.dumps(query)}, CONTROL = {json.dumps(control)}, OPEN_QUERY = {json.dumps(open_query)};"
        + INTERACT
    )
    return probe(FRAME, script, tmp_path, 20000)


def _count(text: str) -> int:
    found = re.match(r"([\d,]+) of ", text)
    assert found, text
    return int(found[1].replace(",", ""))


def _csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _chromium(path: Path, tmp_path: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    """Chromium on the page itself (its CSP intact), console messages on stderr, the DOM on stdout."""
    assert CHROMIUM, "Chromium is required for the browser tests (apt-get install chromium)"
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        "--proxy-server=127.0.0.1:9",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=10000",
        *flags,
        "--dump-dom",
        path.as_uri(),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


def test_search_facet_sort_and_evidence_in_chromium(report_html: str, data: dict[str, Any], tmp_path: Path) -> None:
    names, rows = _table(data, "gaps")
    col = {name: n for n, name in enumerate(names)}
    query = "nhi-0118"
    control = rows[0][col["control_id"]]
    result = _interact(report_html, tmp_path, query, control, rows[3][col["record_id"]])
    assert result["section_hidden"] is False  # the script showed the explorer
    assert _count(result["all"]) == len(rows)
    # search: exactly the rows holding the text somewhere (a column or a field of the cited record)
    expected = [i for i, row in enumerate(rows) if query in json.dumps(row, ensure_ascii=False).lower()]
    assert 0 < len(expected) < len(rows)
    assert _count(result["search"]["count"]) == len(expected)
    assert result["search"]["rows"] == expected[:50]
    # a filter list: exactly the rows of one control
    of_control = [i for i, row in enumerate(rows) if row[col["control_id"]] == control]
    assert _count(result["facet"]["count"]) == len(of_control) < len(rows)
    assert result["facet"]["rows"] == of_control[:50]
    # sorting by a column, both ways
    at = result["heads"].index("record_id")
    ids = sorted(str(row[col["record_id"]]) for row in rows)
    assert result["asc"]["sort"] == "ascending"
    assert [r[at] for r in result["asc"]["rows"]] == ids[:50]
    assert result["desc"]["sort"] == "descending"
    assert [r[at] for r in result["desc"]["rows"]] == ids[::-1][:50]
    # an ordinal column sorts by rank (riskiest first), not alphabetically
    rank = store_explore.LEVELS.index
    by_risk = sorted(range(len(rows)), key=lambda i: (rank(rows[i][col["risk"]]), i))
    assert result["risk"]["rows"] == by_risk[:50]
    assert rows[by_risk[0]][col["risk"]] == "critical"
    # opening a gap shows its file, line, record number, SHA-256 and the cited record's fields
    opened = rows[result["opened"]]
    assert opened[col["record_id"]] == rows[3][col["record_id"]]
    assert result["detail"]["source"] == opened[col["source"]]
    assert result["detail"]["line"] == str(opened[col["line"]])
    assert result["detail"]["record"] == str(opened[col["record"]])
    assert re.fullmatch(r"[0-9a-f]{64}", result["detail"]["sha256"])
    assert result["detail"]["sha256"] == opened[col["sha256"]]
    assert result["fields"] == opened[col["fields"]]
    assert result["fields"]  # the cited record was found
    assert result["fields"].get("id") == opened[col["record_id"]]


def test_every_embedded_gap_cites_a_record_with_fields(data: dict[str, Any]) -> None:
    names, rows = _table(data, "gaps")
    fields = names.index("fields")
    assert rows
    assert all(row[fields] for row in rows), "a gap whose cited record was not found"
    assert all(all(isinstance(v, str) and not k.startswith("_") for k, v in row[fields].items()) for row in rows)


def test_axe_core_finds_no_violation_in_the_explorer(report_html: str, tmp_path: Path) -> None:
    """axe-core on the report with the explorer built (the probe copy drops the CSP, so both scripts run)."""
    opener = 'document.querySelector("#x-gaps-table button.x-open").click();\n'
    result = probe(report_html, opener + AXE_SCRIPT + "\n" + AXE_RUNNER, tmp_path)
    assert "error" not in result, result
    assert result["violations"] == [], json.dumps(result["violations"], indent=1)


def test_csp_allows_only_the_inline_script_by_its_hash(report_html: str) -> None:
    policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', report_html)
    assert policy
    directives = dict(d.strip().split(" ", 1) for d in policy[1].replace("&#39;", "'").split(";"))
    scripts = re.findall(r"<script>(.*?)</script>", report_html, re.DOTALL)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode("utf-8")).digest()).decode()
    assert directives["script-src"] == f"'sha256-{digest}'"
    assert directives["default-src"] == "'none'"
    assert directives["connect-src"] == "'none'"
    assert "unsafe-inline" not in policy[1]
    assert "unsafe-eval" not in policy[1]
    assert len(re.findall(r'<script type="application/json" id="explore-data">', report_html)) == 1
    assert report_html.lower().count("<script") == 2


def test_chromium_runs_the_script_under_the_csp_without_violation(report_html: str, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(report_html, encoding="utf-8")
    done = _chromium(page, tmp_path)
    assert 'id="x-gaps"' in done.stdout, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if "CONSOLE" in line]
    assert not [line for line in console if "Content Security Policy" in line or "Refused" in line], console
    # the check can fail: a wrong hash is reported and the script does not run
    tampered = tmp_path / "tampered.html"
    tampered.write_text(report_html.replace("script-src &#39;sha256-", "script-src &#39;sha256-A", 1), "utf-8")
    bad = _chromium(tampered, tmp_path)
    assert 'id="x-gaps"' not in bad.stdout
    assert "Content Security Policy" in bad.stderr


def test_without_javascript_the_static_report_is_unchanged(report_html: str, tmp_path: Path) -> None:
    """The report in a frame sandboxed without scripts (the probe page reads it, same origin)."""
    (tmp_path / "report.html").write_text(report_html, encoding="utf-8")
    frame = FRAME.replace('<iframe id="screen"', '<iframe id="screen" sandbox="allow-same-origin"')
    script = """
    var frame = document.getElementById("screen");
    frame.addEventListener("load", function () {
      var doc = frame.contentDocument;
      publish({hidden: doc.getElementById("explore").hidden, built: !!doc.getElementById("x-gaps"),
               tables: Array.prototype.map.call(doc.querySelectorAll("table[id]"), function (t) { return t.id; }),
               rows: doc.querySelectorAll("main tr").length, toc: doc.querySelectorAll(".toc li").length});
    });
    """
    result = probe(frame, script, tmp_path, 5000)
    assert result["hidden"] is True
    assert result["built"] is False
    static = re.findall(r'<table id="([^"]+)"', report_html)
    assert len(static) > 5
    assert result["tables"] == static
    main = report_html[report_html.index("<main>") : report_html.index("</main>")]
    assert result["rows"] == main.count("<tr>") + main.count("<tr ")
    assert result["toc"] == report_html.count("<li><a href=")


def test_hostile_strings_stay_text(q3_inputs: ReportInputs, tmp_path: Path) -> None:
    document = json.loads(q3_inputs.exports[EXPORT])
    names, rows = _table(document, "gaps")
    col = {name: n for n, name in enumerate(names)}
    rows[0][col["record_id"]] = HOSTILE_ID
    rows[0][col["message"]] = HOSTILE_MESSAGE
    rows[0][col["fields"]] = {
        "name": "</script><svg onload=\"document.title='pwned3'\">",
        "x\u202ey": "\u2028",
        "z\u200bw": "1",
    }
    exports = {**q3_inputs.exports, EXPORT: json.dumps(document, ensure_ascii=False).encode("utf-8")}
    html = _report_html(dataclasses.replace(q3_inputs, exports=exports))
    (island,) = re.findall(r'<script type="application/json" id="explore-data">(.*?)</script>', html, re.DOTALL)
    assert not re.search("[<>&\u2028\u2029\u202e\u200b]", island)
    assert json.loads(island) == document
    assert html.lower().count("<script") == 2
    assert html.lower().count("</script") == 2
    result = _interact(html, tmp_path, "onerror", rows[0][col["control_id"]], "onerror")
    assert result["title"] != "pwned"
    assert "pwned" not in result["title"]
    assert result["elements"] == {"img": 0, "script": 2, "svg_in_explore": 0, "b_in_explore": 0}
    at = result["heads"].index("record_id")
    assert result["opened_cells"][at] == HOSTILE_ID  # shown as text, U+2028 and all
    assert result["detail"]["message"] == HOSTILE_MESSAGE
    assert result["fields"]["name"].startswith("</script><svg")
    assert result["fields"]["x\u27e8U+202E\u27e9y"] == "\u2028"  # a bidi override is shown, never applied
    assert result["fields"]["z\u27e8U+200B\u27e9w"] == "1"  # and a zero-width space, which hides (D96)


def test_hostile_bundle_evidence_is_escaped_in_the_island(tmp_path: Path) -> None:
    bundle = build_hostile_bundle(tmp_path / "bundle", 9)
    code, _, err = run_cli("report", str(bundle), "--output-dir", str(tmp_path / "out"), "--format", "html")
    assert code == 0, err
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert html.lower().count("<script") == 2
    (island,) = re.findall(r'<script type="application/json" id="explore-data">(.*?)</script>', html, re.DOTALL)
    # the evidence is there (escaped), and parses back to the hostile text
    assert "<script>alert(1)</script>" in json.dumps(json.loads(island), ensure_ascii=False)
    assert not re.search("[<>&\u202e\x1b]", island)
    assert "\u202e" not in html
    assert not (tmp_path / "out" / EXPORT).exists()


def test_the_cap_embeds_exactly_cap_rows_and_says_where_the_rest_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_explore, "EXPLORE_ROWS", 40)
    assessment, exports = assess_for_report(SAMPLES / "northwind-2026-q3")
    document = json.loads(exports[EXPORT])
    assert document["cap"] == 40
    tables = {t["id"]: t for t in document["tables"]}
    findings = _csv(exports["findings.csv"])
    assert tables["gaps"]["total"] == len(findings) > 40
    assert len(tables["gaps"]["rows"]) == 40
    # the first rows of findings.csv, in its order
    record = [c["name"] for c in tables["gaps"]["columns"]].index("record_id")
    assert [row[record] for row in tables["gaps"]["rows"]] == [r["record_id"].lstrip("'") for r in findings[:40]]
    assert tables["ledger"]["total"] == len(_csv(exports["ledger.csv"])) > 40
    assert len(tables["ledger"]["rows"]) == 40
    assert len(tables["identities"]["rows"]) == 40 < tables["identities"]["total"]
    assert len(tables["exceptions"]["rows"]) == tables["exceptions"]["total"] < 40
    made = explorer(exports)
    assert made is not None
    total = tables["gaps"]["total"]
    assert made.notes[0] == (
        f"Gaps: the first 40 of {total:,} embedded (the cap per table); all {total:,} are in findings.csv, "
        "written next to this file, and in the evidence store kept with `report --db`."
    )
    assert made.notes[2] == f"Exceptions: all {tables['exceptions']['total']} embedded."
    html = _report_html(ReportInputs(assessment, exports, load_library(), GENERATED_AT))
    assert f"<li>{made.notes[0]}</li>" in html  # the page says it
    assert len(json.loads(re.findall(r'id="explore-data">(.*?)</script>', html)[0])["tables"][0]["rows"]) == 40


def test_deterministic_and_the_pdf_unchanged(q3_inputs: ReportInputs, report_html: str) -> None:
    assert _report_html(q3_inputs) == report_html
    made = explorer(q3_inputs.exports)
    assert made is not None
    view = build_view(q3_inputs)
    pdf = render_document(view, "pdf", made)
    assert pdf == render_document(view, "pdf")
    assert 'id="explore' not in pdf
    assert "<script" not in pdf
    assert EXPORT not in REPORT_FILES  # never written as a file of the set


def test_explore_json_is_deterministic_with_sorted_keys(q3_inputs: ReportInputs) -> None:
    _, exports = assess_for_report(SAMPLES / "northwind-2026-q3")
    assert exports[EXPORT] == q3_inputs.exports[EXPORT]
    document = json.loads(exports[EXPORT])
    assert json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode() == exports[EXPORT]


def test_island_text_escapes_every_breakout_character() -> None:
    raw = json.dumps({"a": "</script><!--&\u2028\u2029\u202e"}, ensure_ascii=False).encode()
    text = island_text(raw)
    assert text == '{"a": "\\u003c/script\\u003e\\u003c!--\\u0026\\u2028\\u2029\\u202e"}'
    assert json.loads(text) == json.loads(raw)
