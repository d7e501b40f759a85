"""Talks to the installed kernel over the Jupyter protocol: kernel_info, interrupt (interrupt_mode message),
complete, inspect, is_complete. Run by kernels/test-kernel.sh with the venv's python.
"""
import sys
import time

from jupyter_client.manager import start_new_kernel

KERNEL = sys.argv[1] if len(sys.argv) > 1 else "java"
results = []


def check(name, cond, detail=""):
    results.append(bool(cond))
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else ": " + str(detail)))


def run(kc, code, timeout=60):
    """Executes code; returns (reply content, list of iopub messages for it)."""
    msg_id = kc.execute(code)
    outputs = []
    while True:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
        outputs.append(msg)
    reply = kc.get_shell_msg(timeout=timeout)
    return reply["content"], outputs


km, kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=120)
try:
    info = kc.kernel_info(reply=True, timeout=30)["content"]
    check("kernel_info", info["language_info"]["name"] == "Java" and info["implementation"], info)
    check("interrupt_mode message", km.kernel_spec.interrupt_mode == "message", km.kernel_spec.interrupt_mode)

    reply, _ = run(kc, "int before = 7;")
    check("execute", reply["status"] == "ok", reply)

    # Interrupt a runaway cell: the kernel survives and keeps its state.
    msg_id = kc.execute("long spins = 0;\nwhile (true) { spins++; }")
    time.sleep(1.5)
    t0 = time.time()
    km.interrupt_kernel()
    reply = kc.get_shell_msg(timeout=30)["content"]
    check("interrupt stops an infinite loop", reply["status"] == "error" and reply["ename"] == "InterruptedCellException",
          reply)
    check("interrupt is prompt", time.time() - t0 < 10, time.time() - t0)
    reply, outs = run(kc, "before + 1")
    res = [m for m in outs if m["msg_type"] == "execute_result"]
    check("state survives an interrupt", res and res[0]["content"]["data"]["text/plain"] == "8", outs)

    code = "String word = \"x\";\nword.toUpperC"
    run(kc, "String word = \"x\";")
    c = kc.complete(code, len(code), reply=True, timeout=30)["content"]
    check("complete", "toUpperCase(" in c["matches"] and c["cursor_start"] == len(code) - len("toUpperC"), c)

    code = "Math.max("
    i = kc.inspect(code, len(code), reply=True, timeout=30)["content"]
    check("inspect", i["found"] and "max(" in i["data"]["text/plain"], i)

    kc.is_complete("for (int i = 0; i < 3; i++) {")
    ic = kc.get_shell_msg(timeout=30)["content"]
    check("is_complete incomplete", ic["status"] == "incomplete", ic)
    kc.is_complete("int y = 1;")
    ic = kc.get_shell_msg(timeout=30)["content"]
    check("is_complete complete", ic["status"] == "complete", ic)
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=False)

passed = sum(results)
print("protocol: %d passed, %d failed" % (passed, len(results) - passed))
sys.exit(0 if passed == len(results) else 1)
