"""Drive a real tslab kernel for tests: start it through Jupyter's kernel spec, then follow the
steps read as JSON from stdin, and write what each execution produced as JSON to the file named by
the first argument (not to stdout, which the kernel process shares).

Steps: {"execute": "code"} runs code and records its outputs; {"write": path, "text": "..."}
writes a file (to edit a library module between executions); {"execute": "code", "interrupt_after": s}
also interrupts the kernel as Kernel > Interrupt does (SIGINT to its process group) s seconds after
the execution starts, and records how many seconds the cell took to end after that. A kernel that
dies gives the status "dead", for that step and every later one.
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


def main():
    steps = json.load(sys.stdin)
    # The kernel process must not write into our stdout, which carries the JSON answer.
    km, client = start_new_kernel(kernel_name="makemore-ts", startup_timeout=60, stdout=subprocess.DEVNULL)
    results = []
    try:
        for step in steps:
            if results and results[-1]["status"] == "dead":
                results.append({"status": "dead", "outputs": []})
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
