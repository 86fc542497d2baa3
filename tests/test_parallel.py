"""``make test`` runs on two workers (pytest-xdist): each must keep to its share of the CPUs.

The root ``conftest.py`` sets ``TF_NUM_INTRAOP_THREADS``, ``TF_NUM_INTEROP_THREADS``
and ``OMP_NUM_THREADS`` to ``cpus // workers`` in every xdist worker. The
chapters do not run in the worker but in a Jupyter kernel nbval starts from
it, so this checks a kernel started exactly as nbval starts one: it inherits
the three variables, and TensorFlow in it sizes its inter-op pool (the
threads it names ``tf_Compute``) from them. Run serially, the test sets the
variables to 1 itself, so it checks the same thing on one worker.
"""

from __future__ import annotations

import json
import os

import pytest

VARIABLES = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS")

PROBE = """
import collections, glob, json, os
import tensorflow as tf
x = tf.random.normal((256, 256))
for _ in range(3):
    x = tf.linalg.matmul(x, x) / 256.0
_ = tf.nn.conv2d(tf.ones((4, 32, 32, 3)), tf.ones((3, 3, 3, 8)), 1, "SAME").numpy()
names = collections.Counter(open(p).read().strip() for p in glob.glob("/proc/self/task/*/comm"))
print(json.dumps({"env": {v: os.environ.get(v) for v in %r}, "tf_compute": names.get("tf_Compute", 0)}))
""" % (VARIABLES,)


def test_a_kernel_nbval_starts_keeps_to_the_worker_share_of_threads(monkeypatch, tmp_path):
    if not os.path.exists("/proc/self/task"):
        pytest.skip("counts threads through /proc (Linux)")
    from nbval.kernel import CURRENT_ENV_KERNEL_NAME, RunningKernel

    if not os.environ.get("PYTEST_XDIST_WORKER"):
        for var in VARIABLES:
            monkeypatch.setenv(var, "1")
    expected = {var: os.environ.get(var) for var in VARIABLES}
    assert all(expected.values()), f"the worker's thread limits are not set: {expected}"
    kernel = RunningKernel(CURRENT_ENV_KERNEL_NAME, cwd=str(tmp_path))
    try:
        msg_id = kernel.execute_cell_input(PROBE, allow_stdin=False)
        kernel.await_reply(msg_id, timeout=120)
        text, error = "", None
        while True:
            msg = kernel.get_message("iopub", timeout=30)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream":
                text += msg["content"]["text"]
            elif msg["msg_type"] == "error":
                error = "\n".join(msg["content"]["traceback"])
            elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
    finally:
        kernel.stop()
    assert error is None, error
    info = json.loads(text.strip().splitlines()[-1])
    assert info["env"] == expected, f"the kernel did not inherit the limits: {info['env']} != {expected}"
    assert info["tf_compute"] == int(expected["TF_NUM_INTEROP_THREADS"]), info
