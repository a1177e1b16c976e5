"""Execute the notebooks in order on the tslab kernel (headless, nbclient) and export each to an
HTML page that works offline, with an index linking them in order.

Figures come from the kernel as Plotly's MIME type alone (tslab's public display sends one MIME type
per output, see lib/display.ts); `complete_bundles` adds to each the text/html fallback (drawn by the
page's plotly.js) and text/plain, so that the executed notebook holds the whole bundle.

Run through `npm start` (tools/run-notebooks.js), which sets up the environment first.
Writes, for every notebook NAME in notebooks/: OUT/NAME.ipynb (executed), OUT/NAME.html, and
OUT/index.html, and plotly.js once, as OUT/plotly.min.js, which every page loads (as plotly.py's
include_plotlyjs='directory' does); with --self-contained each page carries plotly.js itself instead.
Files are written atomically: a failed notebook never leaves a half-written export and never touches
the exports of the others.
"""
import argparse
import datetime
import html
import json
import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, DeadKernelError, CellTimeoutError
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parent.parent
BACKEND_LINE = re.compile(r"TensorFlow\.js backend: (\w+)")
# The project's kernel spec (tools/setup.js writes it; tools/common.js names it).
KERNEL_NAME = "makemore-ts"
PLOTLY_MIME = "application/vnd.plotly.v1+json"
PLOTLY_JS = ROOT / "node_modules" / "plotly.js-dist-min" / "plotly.min.js"


def title_of(nb, fallback):
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = re.search(r"^#\s+(.+)$", cell.source, re.M)
            if m:
                return m.group(1).strip()
    return fallback


def backend_of(nb):
    """The backend the notebook printed (lib/backend.ts prints it once per kernel)."""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            text = out.get("text") or "".join(out.get("data", {}).get("text/plain", ""))
            m = BACKEND_LINE.search(text if isinstance(text, str) else "".join(text))
            if m:
                return m.group(1)
    return "unknown"


def script_json(value):
    """JSON safe inside a <script> element."""
    return json.dumps(value, separators=(",", ":")).replace("<", "\\u003c")


def plotly_title(fig):
    title = (fig.get("layout") or {}).get("title")
    return (title.get("text") if isinstance(title, dict) else title) or "figure"


def plotly_fallback_html(fig, div_id):
    """A figure as HTML, for pages and front-ends without Plotly's renderer: a <div> that the page's
    plotly.js (window.Plotly) draws; it waits for the library in case that loads later."""
    layout = fig.get("layout") or {}
    height = layout.get("height", 420)
    args = ", ".join(script_json(x) for x in (div_id, fig.get("data", []), layout, fig.get("config") or {}))
    return (f'<div id="{div_id}" class="makemore-plot" style="width:100%;height:{height}px;"></div>\n'
            '<script type="text/javascript">(function() {\n'
            f'  var draw = function() {{ window.Plotly.newPlot({args}); }};\n'
            '  var tries = 0;\n'
            '  var wait = function() { if (window.Plotly) draw(); else if (tries++ < 200) setTimeout(wait, 50); };\n'
            '  wait();\n'
            '})();</script>')


def complete_bundles(nb):
    """Give every Plotly figure of an executed notebook its text/html fallback and text/plain."""
    k = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            fig = data.get(PLOTLY_MIME)
            if isinstance(fig, dict):
                k += 1
                data.setdefault("text/html", plotly_fallback_html(fig, f"makemore-plot-{k}"))
                data.setdefault("text/plain", f"[Plotly figure: {plotly_title(fig)}]")


def write_atomic(path: Path, text: str):
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def first_lines(text, n=3):
    """The error line of a JavaScript stack trace if there is one, else the first lines."""
    lines = [l.strip() for l in text.strip().splitlines() if l.strip() and not l.strip().startswith("at ")]
    errors = [l for l in lines if re.match(r"^(\w*Error|Uncaught \w+)\b.*", l)]
    return errors[0] if errors else " | ".join(lines[:n])


def failure_of(nb, err):
    """Which cell failed (the last one that ran), and the error, in a line."""
    ran = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.get("execution_count") is not None]
    if isinstance(err, DeadKernelError) or not ran:
        return None, f"{type(err).__name__}: {str(err).strip()}"
    i = ran[-1]
    for out in nb.cells[i].get("outputs", []):
        if out.get("output_type") == "error":
            return i, first_lines(f"{out.get('ename')}: {out.get('evalue')}")
    stderr = "".join(o.get("text", "") for o in nb.cells[i].get("outputs", []) if o.get("name") == "stderr")
    return i, first_lines(stderr) or f"{type(err).__name__}"


def execute(path: Path, timeout: int):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name=KERNEL_NAME, allow_errors=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    error = None
    t0 = time.time()
    try:
        client.execute()
    except (CellExecutionError, DeadKernelError, CellTimeoutError, RuntimeError) as e:
        error = e
    return nb, time.time() - t0, error


def export_html(nb, name, facts, self_contained):
    exporter = HTMLExporter(template_name="makemore", extra_template_basedirs=[str(ROOT / "tools" / "nbconvert")])
    if self_contained:
        # "</script" must not end the element early (plotly.min.js has none; this keeps it so).
        plotly = {"plotly_inline": PLOTLY_JS.read_text(encoding="utf-8").replace("</script", "<\\/script")}
    else:
        plotly = {"plotly_src": PLOTLY_JS.name}
    body, _ = exporter.from_notebook_node(nb, resources={"makemore": {**facts, **plotly}, "metadata": {"name": facts["title"]}})
    return body


def write_index(out: Path, entries, profile):
    rows = "\n".join(
        f'<li><a href="{html.escape(e["html"])}">{html.escape(e["title"])}</a> '
        f'<span class="facts">{e["status"]} &middot; {e["seconds"]} s &middot; backend {html.escape(e["backend"])}</span></li>'
        for e in entries)
    write_atomic(out / "index.html", f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>makemore part 3: activations, gradients and BatchNorm</title>
<style>body {{ font-family: system-ui, sans-serif; max-width: 46em; margin: 2em auto; }} .facts {{ color: #666; font-size: 90%; }}</style>
</head><body>
<h1>makemore part 3: activations, gradients and BatchNorm</h1>
<p>The notebooks in order, executed with the <b>{html.escape(profile)}</b> run profile.</p>
<ol>
{rows}
</ol>
</body></html>
""")


def names_notebook(want, path):
    """--only takes a notebook's name (04-batchnorm, or 04-batchnorm.ipynb) or its number (04 or 4)."""
    want = want[:-len(".ipynb")] if want.endswith(".ipynb") else want
    number = path.stem.split("-")[0]
    return want == path.stem or (want.isdigit() and number.isdigit() and int(want) == int(number))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "dist"))
    ap.add_argument("--dir", default=str(ROOT / "notebooks"), help="folder of the notebooks to run")
    ap.add_argument("--only", nargs="*", help="notebooks to run, by name (04-batchnorm) or number (04); default all")
    ap.add_argument("--timeout", type=int, default=int(os.environ.get("MAKEMORE_CELL_TIMEOUT", "3600")),
                    help="seconds a single cell may take")
    ap.add_argument("--self-contained", action="store_true",
                    help="put plotly.js into each page (about 4.6 MB more per page) instead of OUT/plotly.min.js")
    args = ap.parse_args()

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    profile = os.environ.get("MAKEMORE_PROFILE", "full")
    # Notebooks hand results to later ones through this file (lib/results.ts); kernels inherit it.
    os.environ["MAKEMORE_RESULTS"] = str(out / "results.json")
    paths = sorted(Path(args.dir).glob("*.ipynb"))
    if args.only:
        chosen = []
        for want in args.only:
            hits = [p for p in paths if names_notebook(want, p)]
            if not hits:
                print(f"[makemore] --only {want}: no such notebook in {args.dir}; give a name or its number, "
                      f"one of: {', '.join(p.stem for p in paths)}", file=sys.stderr)
                return 2
            chosen += [p for p in hits if p not in chosen]
        paths = sorted(chosen)
    if not paths:
        print("[makemore] no notebooks to run", file=sys.stderr)
        return 1

    if not args.self_contained:
        write_atomic(out / PLOTLY_JS.name, PLOTLY_JS.read_text(encoding="utf-8"))
    titles = {p.stem: title_of(nbformat.read(p, as_version=4), p.stem) for p in paths}
    entries, failures = [], []
    t_all = time.time()
    for k, path in enumerate(paths):
        name = path.stem
        print(f"[makemore] [{k + 1}/{len(paths)}] {name} ...", flush=True)
        nb, seconds, error = execute(path, args.timeout)
        facts = {
            "title": titles[name], "profile": profile, "backend": backend_of(nb),
            "seconds": f"{seconds:.1f}", "executed_at": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
            "prev": {"html": f"{paths[k - 1].stem}.html", "title": titles[paths[k - 1].stem]} if k > 0 else None,
            "next": {"html": f"{paths[k + 1].stem}.html", "title": titles[paths[k + 1].stem]} if k + 1 < len(paths) else None,
        }
        nb.metadata["makemore"] = {key: facts[key] for key in ("profile", "backend", "seconds", "executed_at")}
        complete_bundles(nb)
        status = "ok"
        if error is not None:
            cell, message = failure_of(nb, error)
            where = f"cell {cell}" if cell is not None else "kernel"
            failures.append(f"{name}.ipynb, {where}: {message}")
            status = "FAILED"
            print(f"[makemore]     FAILED after {seconds:.1f} s in {where}: {message}", flush=True)
        else:
            print(f"[makemore]     ok in {seconds:.1f} s (backend {facts['backend']})", flush=True)
        write_atomic(out / f"{name}.ipynb", nbformat.writes(nb))
        write_atomic(out / f"{name}.html", export_html(nb, name, facts, args.self_contained))
        entries.append({"html": f"{name}.html", "title": titles[name], "status": status,
                        "seconds": facts["seconds"], "backend": facts["backend"]})

    write_index(out, entries, profile)
    total = time.time() - t_all
    print(f"[makemore] {len(paths) - len(failures)} of {len(paths)} notebooks ok in {total:.1f} s "
          f"(profile {profile}); exports in {out}/index.html", flush=True)
    if failures:
        print("[makemore] failed:\n  " + "\n  ".join(failures), file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
