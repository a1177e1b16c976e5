"""Drive a real tslab kernel for tests: start it through Jupyter's kernel spec, then follow the
steps read as JSON from stdin, and print what each execution produced as JSON on stdout.

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
            outputs.append({"type": kind, "data": content["data"],
                            "display_id": content.get("transient", {}).get("display_id"), "time": time.time()})
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
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
