"""Drive a real tslab kernel for tests: start it through Jupyter's kernel spec, then follow the
steps read as JSON from stdin, and write what each execution produced as JSON to the file named by
the first argument (not to stdout, which the kernel process shares).

Steps: {"execute": "code"} runs code and records its outputs; {"write": path, "text": "..."}
writes a file (to edit a library module between executions).
"""
import json
import sys
import time

from jupyter_client.manager import start_new_kernel


def run(client, code, timeout=120):
    msg_id = client.execute(code, stop_on_error=False)
    outputs, status = [], None
    while True:
        msg = client.get_iopub_msg(timeout=timeout)
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
    while True:
        reply = client.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    status = reply["content"].get("status")
    if status == "error":
        time.sleep(0.5)  # tslab aborts whatever arrives in the 200 ms after an error
    return {"status": status, "outputs": outputs}


def main():
    steps = json.load(sys.stdin)
    km, client = start_new_kernel(kernel_name="makemore-ts", startup_timeout=60)
    results = []
    try:
        for step in steps:
            if "execute" in step:
                results.append(run(client, step["execute"]))
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
