"""The quick-start HTML report in a real browser (headless Chromium, no network): axe-core finds no
accessibility violation, and the funnel chart fits a 390 px wide phone screen.

The report's Content-Security-Policy forbids scripts, so the probes run in a test copy of the page
with the CSP removed and a script added; the page under test is otherwise byte for byte the report.
Chromium comes from the system (`apt-get install chromium`, done by .ci/run); axe-core from the
`axe-core-python` wheel (test extra).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from axe_core_python.base import AXE_SCRIPT

from reporter.report.interface import ReportInputs
from reporter.report.templating import render_document
from reporter.report.view.build import build_view

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")

RESULT_ID = "probe-result"
AXE_RUNNER = """
var rules = {"link-in-text-block": {enabled: true}, "empty-table-header": {enabled: true}};
axe.run(document, {resultTypes: ["violations"], rules: rules}).then(function (r) {
  var out = r.violations.map(function (v) {
    return {id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map(function (n) { return n.target.join(" ") + " :: " + n.failureSummary; }),
            count: v.nodes.length};
  });
  publish({axe: axe.version, violations: out});
}, function (e) { publish({error: String(e)}); });
"""
FUNNEL_PROBE = """
var frame = document.getElementById("screen");
frame.addEventListener("load", function () {
  var doc = frame.contentDocument;
  var svg = doc.getElementById("chart-funnel");
  var box = svg.getBoundingClientRect();
  var wrap = svg.parentElement;
  var scale = box.width / svg.viewBox.baseVal.width;
  publish({viewport: doc.documentElement.clientWidth, left: box.left, right: box.right, width: box.width,
           wrap_scroll: wrap.scrollWidth, wrap_client: wrap.clientWidth,
           label_px: parseFloat(svg.querySelector("text").getAttribute("font-size")) * scale});
});
"""
PUBLISH = f"""
function publish(value) {{
  var pre = document.createElement("pre");
  pre.id = "{RESULT_ID}";
  pre.textContent = JSON.stringify(value);
  document.body.appendChild(pre);
}}
"""


@pytest.fixture(scope="module")
def quick_start_html(q3_inputs: ReportInputs) -> str:
    """report.html of the quick-start command (the Q3 sample, no baseline)."""
    return render_document(build_view(q3_inputs), "html")


def probe(html: str, script: str, tmp_path: Path, budget_ms: int = 30000) -> dict[str, Any]:
    """Open a test copy of the page with `script` added in headless Chromium; return what it publishes."""
    assert CHROMIUM, "Chromium is required for the browser tests (apt-get install chromium; .ci/run installs it)"
    page = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html, count=1)
    injected = f"<script>{PUBLISH}</script><script>{script}</script></body>"
    path = tmp_path / "page.html"
    path.write_text(page.replace("</body>", injected, 1), encoding="utf-8")
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        "--proxy-server=127.0.0.1:9",  # belt and braces: the page loads nothing, and nothing may leave
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1280,900",
        "--allow-file-access-from-files",  # the frame probe reads the framed report
        f"--virtual-time-budget={budget_ms}",
        "--dump-dom",
        path.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    found = re.search(rf'<pre id="{RESULT_ID}">(.*?)</pre>', done.stdout, re.DOTALL)
    assert found, f"the probe published nothing; chromium exit {done.returncode}: {done.stderr[-2000:]}"
    text = found[1].replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
    result: dict[str, Any] = json.loads(text)
    return result


def test_axe_core_finds_no_violation(quick_start_html: str, tmp_path: Path) -> None:
    result = probe(quick_start_html, AXE_SCRIPT + "\n" + AXE_RUNNER, tmp_path)
    assert "error" not in result, result
    assert result["axe"].startswith("4."), result
    assert result["violations"] == [], json.dumps(result["violations"], indent=1)


def test_the_funnel_fits_a_390_px_screen(quick_start_html: str, tmp_path: Path) -> None:
    """The report (CSP and all, unchanged) in a 390 px wide frame: a headless window is at least 500 px wide."""
    (tmp_path / "report.html").write_text(quick_start_html, encoding="utf-8")
    frame = '<iframe id="screen" src="report.html" width="390" height="844"></iframe>'
    result = probe(f"<!DOCTYPE html><html><body>{frame}</body></html>", FUNNEL_PROBE, tmp_path, 3000)
    assert result["viewport"] <= 390, result
    assert result["left"] >= 0, result
    assert result["right"] <= result["viewport"], result
    assert result["wrap_scroll"] <= result["wrap_client"], result  # nothing scrolled out of view
    assert result["label_px"] >= 9.5, result  # still readable after scaling down
