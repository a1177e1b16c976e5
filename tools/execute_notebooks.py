"""Execute the notebooks in order on the tslab kernel (headless, nbclient) and export each to an
HTML page that works offline, with an index linking them in order.

Figures come from the kernel as Plotly's MIME type alone (tslab's public display sends one MIME type
per output, see lib/viz/display.ts); `complete_bundles` adds to each the text/html fallback (drawn by the
page's plotly.js) and text/plain, so that the executed notebook holds the whole bundle.

Run through `npm start` (tools/run-notebooks.js), which sets up the environment and checks the
settings and the data first. Writes, for every notebook NAME in notebooks/: OUT/NAME.ipynb (executed),
OUT/NAME.html, and OUT/index.html, which also links OUT/playground.html (built next by
tools/build-playground.ts). Files are written atomically. A failed notebook never replaces a good
export: its run goes to OUT/NAME.failed.ipynb and .html, and the index marks the good one stale.
The index lists every notebook, also those not run this time (--only).

Ctrl+C (SIGINT), a closed terminal (SIGHUP) or SIGTERM stop the run: every kernel it started is ended,
the notebook that was running keeps its previous export, and one line says so.
plotly.js is written once, as OUT/plotly.min.js, which every page loads (as plotly.py's
include_plotlyjs='directory' does); with --self-contained each page carries plotly.js itself instead.
"""
import argparse
import datetime
import html
import json
import math
import os
import re
import signal
import sys
import threading
import time
from pathlib import Path

import psutil

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
    """The backend the notebook printed (lib/env/backend.ts prints it once per kernel)."""
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


def write_index(out: Path, entries):
    def facts(e):
        if e["status"] == "not run":
            return "not run yet"
        text = f'{e["status"]} &middot; profile {html.escape(e["profile"])} &middot; {e["seconds"]} s &middot; backend {html.escape(e["backend"])}'
        if e.get("failed"):
            text = (f'<b class="stale">stale</b>: the last good run ({html.escape(e["executed_at"])}), {text}; '
                    f'the run of {html.escape(e["failed"]["executed_at"])} FAILED '
                    f'(<a href="{html.escape(e["failed"]["html"])}">its output</a>)')
        return text

    def item(e):
        title = html.escape(e["title"])
        link = f'<a href="{html.escape(e["html"])}">{title}</a>' if e["status"] != "not run" else title
        return f'<li>{link} <span class="facts">{facts(e)}</span></li>'

    rows = "\n".join(item(e) for e in entries)
    write_atomic(out / "index.html", f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>makemore part 3: activations, gradients and BatchNorm</title>
<style>body {{ font-family: system-ui, sans-serif; max-width: 46em; margin: 2em auto; }} .facts {{ color: #666; font-size: 90%; }} .stale {{ color: #b00; }}</style>
</head><body>
<h1>makemore part 3: activations, gradients and BatchNorm</h1>
<p>The notebooks in order, each with the run profile it was executed with.</p>
<ol>
{rows}
</ol>
<p><a href="playground.html">The playground</a>: train the lecture's deep network in your browser, with your own
gain, batch norm, tanh, learning rate, depth, width, steps and seed, and watch the four pictures as it trains.</p>
</body></html>
""")


def read_export(path: Path):
    """The facts an earlier run stored in an executed notebook (its metadata), or None."""
    if not path.exists():
        return None
    try:
        facts = dict(nbformat.read(path, as_version=4).metadata.get("makemore", {}))
    except Exception:  # an unreadable export counts as none; it is only replaced by a good run
        return None
    # Exports written before statuses were kept: good unless they hold an error output.
    if "status" not in facts:
        nb = nbformat.read(path, as_version=4)
        failed = any(o.get("output_type") == "error" for c in nb.cells for o in c.get("outputs", []))
        facts["status"] = "FAILED" if failed else "ok"
    return facts


def entry_of(out: Path, name: str, title: str):
    """The index entry of a notebook from its exports: the good one, and a later failed run if any."""
    good = read_export(out / f"{name}.ipynb")
    failed = read_export(out / f"{name}.failed.ipynb")
    if good is None:
        return {"html": f"{name}.html", "title": title, "status": "not run"}
    e = {"html": f"{name}.html", "title": title, "status": good["status"], "profile": good.get("profile", "?"),
         "seconds": good.get("seconds", "?"), "backend": good.get("backend", "unknown"), "executed_at": good.get("executed_at", "?")}
    if failed is not None:
        e["failed"] = {"html": f"{name}.failed.html", "executed_at": failed.get("executed_at", "?")}
    return e


def resolve_only(wanted, paths):
    """The notebooks --only names: NAME, NAME.ipynb, a path to it, or its number (04 or 4)."""
    chosen = []
    for w in wanted:
        key = Path(w).name
        key = key[:-len(".ipynb")] if key.endswith(".ipynb") else key
        match = [p for p in paths if p.stem == key]
        if not match and key.isdigit():
            match = [p for p in paths if re.match(r"^(\d+)-", p.stem) and int(p.stem.split("-")[0]) == int(key)]
        if not match:
            names = ", ".join(p.stem for p in paths)
            raise SystemExit(f"[makemore] --only {w}: there is no such notebook. The notebooks are: {names}. "
                             "Give a name (with or without .ipynb) or a number, e.g. --only 04-batchnorm or --only 04.")
        chosen += [p for p in match if p not in chosen]
    return [p for p in paths if p in chosen]


class Stop(Exception):
    """A signal asked the run to stop."""


class Run:
    """The run's state shared by the worker thread (nbclient) and the main thread (signals)."""

    def __init__(self):
        self.signal = None
        self.current = set()
        self.done = []

    def stop(self, signum, _frame=None):
        if self.signal is not None:
            return  # a second signal (from the terminal and from npm's launcher) changes nothing
        self.signal = signal.Signals(signum).name
        end_children()


def end_children(timeout=5):
    """End every process this run started (the kernels, in their own sessions), then wait for them."""
    children = psutil.Process().children(recursive=True)
    for c in children:
        try:
            c.terminate()
        except psutil.NoSuchProcess:
            pass
    _gone, alive = psutil.wait_procs(children, timeout=timeout)
    for c in alive:
        try:
            c.kill()
        except psutil.NoSuchProcess:
            pass


def say(text, stream=sys.stderr):
    """Print a line; a closed terminal (SIGHUP) is not an error."""
    try:
        print(text, file=stream, flush=True)
    except OSError:
        pass


def run_all(args, run: Run):
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    profile = os.environ.get("MAKEMORE_PROFILE") or "full"
    every = sorted(Path(args.dir).glob("*.ipynb"))
    if not every:
        raise SystemExit(f"[makemore] no notebooks in {args.dir}")
    paths = resolve_only(args.only, every) if args.only else every

    if not args.self_contained:
        write_atomic(out / PLOTLY_JS.name, PLOTLY_JS.read_text(encoding="utf-8"))
    titles = {p.stem: title_of(nbformat.read(p, as_version=4), p.stem) for p in every}
    failures = []
    t_all = time.time()
    lock = threading.Lock()

    def one(k, path):
        name = path.stem
        if run.signal:
            raise Stop()
        with lock:
            run.current.add(name)
        say(f"[makemore] started {name}", sys.stdout)
        nb, seconds, error = execute(path, args.timeout)
        if run.signal:
            raise Stop()  # the kernel was ended by a signal: this run is not a result, the old export stays
        # Neighbours among all the notebooks, also when only some run.
        i = every.index(path)
        facts = {
            "title": titles[name], "profile": profile, "backend": backend_of(nb),
            "seconds": f"{seconds:.1f}", "executed_at": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
            "prev": {"html": f"{every[i - 1].stem}.html", "title": titles[every[i - 1].stem]} if i > 0 else None,
            "next": {"html": f"{every[i + 1].stem}.html", "title": titles[every[i + 1].stem]} if i + 1 < len(every) else None,
        }
        complete_bundles(nb)
        status = "ok"
        # The two lines of a notebook are printed together: notebooks may run side by side.
        head = f"[makemore] [{k + 1}/{len(paths)}] {name} ...\n"
        if error is not None:
            cell, message = failure_of(nb, error)
            where = f"cell {cell}" if cell is not None else "kernel"
            with lock:
                failures.append(f"{name}.ipynb, {where}: {message}")
            status = "FAILED"
            say(f"{head}[makemore]     FAILED after {seconds:.1f} s in {where}: {message}", sys.stdout)
        else:
            say(f"{head}[makemore]     ok in {seconds:.1f} s (backend {facts['backend']})", sys.stdout)
        nb.metadata["makemore"] = {key: facts[key] for key in ("profile", "backend", "seconds", "executed_at")}
        nb.metadata["makemore"]["status"] = status
        previous = read_export(out / f"{name}.ipynb")
        # A failed run never replaces a good export: it goes beside it, and the index marks the good one stale.
        target = f"{name}.failed" if status != "ok" and previous is not None and previous["status"] == "ok" else name
        write_atomic(out / f"{target}.ipynb", nbformat.writes(nb))
        write_atomic(out / f"{target}.html", export_html(nb, name, facts, args.self_contained))
        if status == "ok":
            for stale in (out / f"{name}.failed.ipynb", out / f"{name}.failed.html"):
                stale.unlink(missing_ok=True)
        with lock:
            run.done.append(name)
            run.current.discard(name)

    # Up to `--jobs` notebooks at a time (one kernel each, one core each). A notebook that reads the
    # results of earlier ones (mm.readResults) starts when every notebook before it has finished; those
    # go first, in order. The others start longest first (by their last export's time), so that the
    # longest does not run alone at the end. One without an export yet (a first run) counts as longest,
    # the later before the earlier: the lecture's last notebook, the experiments, is its longest.
    readers = {p for p in paths if "readResults" in p.read_text(encoding="utf-8")}
    first = {p for p in paths if p in readers or any(p < r for r in readers)}

    def last_seconds(p):
        facts = read_export(out / f"{p.stem}.ipynb") or {}
        try:
            return float(facts.get("seconds", math.inf))
        except ValueError:
            return math.inf

    def order(p):
        if p in first:
            return (0, 0, every.index(p))
        seconds = last_seconds(p)
        return (1, -seconds, -every.index(p) if seconds == math.inf else every.index(p))

    queue = sorted(paths, key=order)
    finished, errors = set(), []
    cond = threading.Condition()

    def ready(p):
        return p not in readers or all(q in finished for q in paths if q < p)

    def worker():
        while True:
            with cond:
                p = None
                while p is None:
                    if errors or not queue:
                        return
                    p = next((q for q in queue if ready(q)), None)
                    if p is None:
                        cond.wait()
                queue.remove(p)
            try:
                one(paths.index(p), p)
            except BaseException as e:  # noqa: BLE001 - raised below, in this thread
                with cond:
                    errors.append(e)
                    cond.notify_all()
                return
            with cond:
                finished.add(p)
                cond.notify_all()

    workers = [threading.Thread(target=worker, name=f"notebooks-{i}", daemon=True) for i in range(max(1, args.jobs))]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if errors:
        raise errors[0]

    write_index(out, [entry_of(out, p.stem, titles[p.stem]) for p in every])
    total = time.time() - t_all
    say(f"[makemore] {len(paths) - len(failures)} of {len(paths)} notebooks ok in {total:.1f} s "
        f"(profile {profile}); exports in {out}/index.html", sys.stdout)
    if failures:
        say("[makemore] failed:\n  " + "\n  ".join(failures))
        return 1
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "dist"))
    ap.add_argument("--dir", default=str(ROOT / "notebooks"), help="folder of the notebooks to run")
    ap.add_argument("--only", nargs="*", help="notebooks to run: names with or without .ipynb, or numbers (04); default all")
    ap.add_argument("--timeout", type=int, default=int(os.environ.get("MAKEMORE_CELL_TIMEOUT", "3600")),
                    help="seconds a single cell may take")
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("MAKEMORE_JOBS", "2")),
                    help="notebooks run side by side (default 2, MAKEMORE_JOBS; 1 runs them one after another)")
    ap.add_argument("--self-contained", action="store_true",
                    help="put plotly.js into each page (about 4.6 MB more per page) instead of OUT/plotly.min.js")
    args = ap.parse_args()

    run = Run()
    outcome = {}

    def work():
        try:
            outcome["code"] = run_all(args, run)
        except Stop:
            pass
        except SystemExit as e:
            outcome["exit"] = e
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            outcome["error"] = e

    # nbclient runs in a worker thread, so that the signals reach this (main) thread's handlers.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, run.stop)
    worker = threading.Thread(target=work, name="notebooks", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(0.2)
        if run.signal:
            worker.join(10)  # it notices its kernel is gone
            break
    if run.signal:
        where = f" during {', '.join(sorted(run.current))}" if run.current else ""
        kept = ("its previous export is kept" if len(run.current) == 1 else "their previous exports are kept") if run.current else "nothing was running"
        say(f"[makemore] stopped by {run.signal}{where}: ended every kernel of the run; {kept}; "
            f"{len(run.done)} notebook{'s' if len(run.done) != 1 else ''} finished before.")
        code = 128 + getattr(signal, run.signal)
        if worker.is_alive():
            # Still inside nbclient after 10 s: leave without waiting (its kernel is already ended).
            try:
                sys.stdout.flush()
            except OSError:
                pass
            os._exit(code)
        return code
    if "exit" in outcome:
        raise outcome["exit"]
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("code", 1)


if __name__ == "__main__":
    sys.exit(main())
