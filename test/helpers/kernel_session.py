"""Drive a real tslab kernel for tests: start it through Jupyter's kernel spec, then follow the
steps read as JSON from stdin, and write what each execution produced as JSON to the file named by
the first argument (not to stdout, which the kernel process shares).

Steps: {"execute": "code"} runs code and records its outputs; {"write": path, "text": "..."}
writes a file (to edit a library module between executions); {"execute": "code", "interrupt_after": s}
also interrupts the kernel as Kernel > Interrupt does (SIGINT to its process group) s seconds after
the execution starts, and records how many seconds the cell took to end after that. A kernel that
dies gives the status "dead", for that step and every later one.

{"run_all": ["code", ...], "complete_during": k} sends every cell at once, as JupyterLab's Run All
does, and records, besides each cell's outputs, every status message of the kernel (busy or idle, the
request it answers: a cell's index or another request's type, and the kernel's time of sending);
with complete_during, it also asks for a completion (as Tab in JupyterLab) 0.5 s after cell k's first output.
"""
import json
import os
import queue
import subprocess
import sys
import time

from jupyter_client.manager import start_new_kernel


class KernelDied(Exception):
    pass


def next_msg(get, km, timeout):
    """The next message of a channel, or queue.Empty after timeout; polls so that a kernel that died
    is noticed at once rather than at the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return get(timeout=max(0.01, min(0.2, deadline - time.monotonic())))
        except queue.Empty:
            if not km.is_alive():
                raise KernelDied()
            if time.monotonic() >= deadline:
                raise


def run(client, km, code, timeout=120, interrupt_after=None):
    msg_id = client.execute(code, stop_on_error=False)
    interrupt_at = None if interrupt_after is None else time.monotonic() + interrupt_after
    interrupted_at = None
    outputs, status = [], None
    while True:
        if interrupt_at is not None and interrupted_at is None and time.monotonic() >= interrupt_at:
            km.interrupt_kernel()
            interrupted_at = time.monotonic()
        waiting_to_interrupt = interrupt_at is not None and interrupted_at is None
        try:
            msg = next_msg(client.get_iopub_msg, km, max(0, interrupt_at - time.monotonic()) if waiting_to_interrupt else timeout)
        except queue.Empty:
            if waiting_to_interrupt:
                continue
            raise
        except KernelDied:
            process = getattr(km.provisioner, "process", None)
            # A negative exit code -N: killed by signal N (-2: SIGINT).
            return {"status": "dead", "outputs": outputs, "exit_code": process.poll() if process else None}
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            outputs.append({"type": "stream", "name": content["name"], "text": content["text"]})
        elif kind in ("display_data", "update_display_data", "execute_result"):
            # The kernel's own time of sending (the message's date), to measure how often it updates.
            outputs.append({"type": kind, "data": content["data"],
                            "display_id": content.get("transient", {}).get("display_id"),
                            "time": msg["header"]["date"].timestamp()})
        elif kind == "error":
            outputs.append({"type": "error", "ename": content["ename"], "evalue": content["evalue"]})
        elif kind == "status" and content["execution_state"] == "idle":
            break
    ended = time.monotonic()
    while True:
        reply = client.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    status = reply["content"].get("status")
    if status == "error":
        time.sleep(0.5)  # tslab aborts whatever arrives in the 200 ms after an error
    result = {"status": status, "outputs": outputs}
    if interrupted_at is not None:
        result["seconds_after_interrupt"] = ended - interrupted_at
    return result


def output_of(msg):
    """A cell's output as the tests read it, or None for messages that are not outputs."""
    kind, content = msg["msg_type"], msg["content"]
    if kind == "stream":
        return {"type": "stream", "name": content["name"], "text": content["text"]}
    if kind in ("display_data", "update_display_data", "execute_result"):
        return {"type": kind, "data": content["data"], "display_id": content.get("transient", {}).get("display_id"),
                "time": msg["header"]["date"].timestamp()}
    if kind == "error":
        return {"type": "error", "ename": content["ename"], "evalue": content["evalue"]}
    return None


def run_all(client, km, cells, complete_during=None, timeout=300):
    ids = [client.execute(code, stop_on_error=False) for code in cells]
    index = {msg_id: k for k, msg_id in enumerate(ids)}
    outputs = [[] for _ in cells]
    statuses, ended = [], set()
    complete_at, complete_id, completion = None, None, None
    deadline = time.monotonic() + timeout
    while len(ended) < len(cells) or (complete_id is not None and completion is None):
        if complete_at is not None and complete_id is None and time.monotonic() >= complete_at:
            complete_id = client.complete("mm.evalu", 8)
        try:
            msg = next_msg(client.get_iopub_msg, km, 0.1)
        except queue.Empty:
            msg = None
        except KernelDied:
            return {"status": "dead", "outputs": [], "cells": outputs, "statuses": statuses}
        if complete_id is not None and completion is None:
            try:
                reply = client.get_shell_msg(timeout=0.01)
                if reply["parent_header"].get("msg_id") == complete_id:
                    completion = reply["content"].get("matches", [])
            except queue.Empty:
                pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"run_all: {len(ended)} of {len(cells)} cells ended in {timeout} s")
        if msg is None:
            continue
        parent = msg["parent_header"]
        k = index.get(parent.get("msg_id"))
        if msg["msg_type"] == "status":
            statuses.append({"state": msg["content"]["execution_state"], "cell": k, "request": parent.get("msg_type"),
                             "time": msg["header"]["date"].timestamp()})
            if k is not None and msg["content"]["execution_state"] == "idle":
                ended.add(k)
        elif k is not None:
            output = output_of(msg)
            if output is not None:
                outputs[k].append(output)
                if k == complete_during and complete_at is None:
                    complete_at = time.monotonic() + 0.5
    return {"status": "ok", "outputs": [o for cell in outputs for o in cell], "cells": outputs, "statuses": statuses,
            "completion": completion}


def main():
    steps = json.load(sys.stdin)
    # The kernel process must not write into our stdout, which carries the JSON answer.
    km, client = start_new_kernel(kernel_name="makemore-ts", startup_timeout=60, stdout=subprocess.DEVNULL)
    results = []
    try:
        for step in steps:
            if results and results[-1]["status"] == "dead":
                results.append({"status": "dead", "outputs": []})
            elif "run_all" in step:
                results.append(run_all(client, km, step["run_all"], step.get("complete_during")))
            elif "execute" in step:
                results.append(run(client, km, step["execute"], interrupt_after=step.get("interrupt_after")))
            elif "write" in step:
                with open(step["write"], "w") as f:
                    f.write(step["text"])
                results.append({"status": "written"})
    finally:
        client.stop_channels()
        km.shutdown_kernel(now=True)
    with open(sys.argv[1], "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main()
