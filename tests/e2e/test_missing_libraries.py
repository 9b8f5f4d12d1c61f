# SPDX-License-Identifier: MIT
"""imgbus loads cairo, rabbitmq-c and libcrypto with dlopen when a command first needs them.

Each check puts an empty file with the library's soname on LD_LIBRARY_PATH, where the dynamic
linker finds it before the system's copy and fails to load it. `imgbus process` must still run,
because it needs none of them. The commands that do need one must exit with an error that names
the library and the Debian package that installs it.
"""
import os
import shutil
import subprocess
import tempfile

import imgbus_server
from imgbus_server import IMGBUS_BIN, Checks, Server

COMMAND_TIMEOUT = 120
# A serve that starts despite a broken libcrypto runs until killed; this ends the check instead.
SERVE_TIMEOUT = 30
SONAMES = ["libcairo.so.2", "librabbitmq.so.4", "libcrypto.so.3"]


def broken_library_env(workdir, *sonames):
    """The environment with LD_LIBRARY_PATH pointing at empty files named `sonames`."""
    directory = tempfile.mkdtemp(prefix="broken-libs-", dir=workdir)
    for soname in sonames:
        open(os.path.join(directory, soname), "wb").close()
    return dict(os.environ, LD_LIBRARY_PATH=directory)


def run_imgbus(env, *args, timeout=COMMAND_TIMEOUT):
    result = subprocess.run([IMGBUS_BIN, *args], capture_output=True, text=True, env=env,
                            timeout=timeout)
    return result.returncode, result.stdout + result.stderr


def check_process_needs_none(workdir):
    output = os.path.join(workdir, "gray.jpg")
    source = os.path.join(imgbus_server.TEST_DATA, "test.jpg")
    code, text = run_imgbus(broken_library_env(workdir, *SONAMES), "process", source, output)
    assert code == 0, f"imgbus process exited {code}:\n{text}"
    assert os.path.getsize(output) > 0, "imgbus process wrote an empty file"


def check_bench_names_cairo(workdir):
    server = Server("--workers", "1").start()
    try:
        code, text = run_imgbus(broken_library_env(workdir, "libcairo.so.2"), "bench",
                                os.path.join(imgbus_server.TEST_DATA, "test.jpg"), "--url",
                                server.url, "--counts", "1", "--timeout", "60", "--output",
                                os.path.join(workdir, "plot.png"))
    finally:
        server.cleanup()
    assert code == 1, f"imgbus bench exited {code} without cairo:\n{text}"
    assert "cannot load libcairo.so.2" in text, text
    assert "install Debian's libcairo2 package" in text, text
    # It fails before the first step: no table of steps, no report beside the PNG.
    assert "p95 ms" not in text, f"imgbus bench ran its steps before failing:\n{text}"
    assert not os.path.exists(os.path.join(workdir, "plot.json")), "a report without steps"


def check_worker_names_rabbitmq(workdir):
    env = broken_library_env(workdir, "librabbitmq.so.4")
    env.update(IMGBUS_ACCESS_KEY="key", IMGBUS_SECRET_KEY="secret", IMGBUS_BROKER_USER="user",
               IMGBUS_BROKER_PASSWORD="password")
    code, text = run_imgbus(env, "worker", "--broker", "amqp://127.0.0.1:1/%2F", "--store",
                            "http://127.0.0.1:1", "--metrics-addr", "127.0.0.1:0")
    assert code != 0, f"imgbus worker exited 0 without rabbitmq-c:\n{text}"
    assert "cannot load librabbitmq.so.4" in text, text
    assert "install Debian's librabbitmq4 package" in text, text


def check_serve_names_libcrypto(workdir):
    """With a key pair given, nothing at start generates credentials: serve must still load
    libcrypto before it opens a listener, instead of failing each signed request later."""
    data_dir = tempfile.mkdtemp(prefix="serve-", dir=workdir)
    env = broken_library_env(workdir, "libcrypto.so.3")
    env.update(IMGBUS_ACCESS_KEY="missinglibkey", IMGBUS_SECRET_KEY="missinglibsecret123")
    try:
        code, text = run_imgbus(env, "serve", "--data-dir", data_dir, "--http", "127.0.0.1:0",
                                "--s3", "127.0.0.1:0", "--amqp", "127.0.0.1:0",
                                timeout=SERVE_TIMEOUT)
    except subprocess.TimeoutExpired as expired:
        raise AssertionError(f"imgbus serve kept running without libcrypto:\n{expired.stderr}")
    assert code == 1, f"imgbus serve exited {code} without libcrypto:\n{text}"
    assert "cannot load libcrypto.so.3" in text, text
    assert "install Debian's libssl3 package" in text, text
    assert "listening on" not in text, f"imgbus serve opened a listener:\n{text}"


def check_queues_names_libcrypto(workdir):
    code, text = run_imgbus(broken_library_env(workdir, "libcrypto.so.3"), "queues", "status",
                            "--url", "http://127.0.0.1:1", "--user", "user", "--password",
                            "password")
    assert code == 1, f"imgbus queues exited {code} without libcrypto:\n{text}"
    assert "cannot load libcrypto.so.3" in text, text
    assert "install Debian's libssl3 package" in text, text


def main():
    imgbus_server.require_environment()
    checks = Checks()
    workdir = tempfile.mkdtemp(prefix="imgbus-missing-libs-")
    try:
        checks.run("process needs none of them", check_process_needs_none, workdir)
        checks.run("bench names cairo", check_bench_names_cairo, workdir)
        checks.run("worker names rabbitmq-c", check_worker_names_rabbitmq, workdir)
        checks.run("serve names libcrypto", check_serve_names_libcrypto, workdir)
        checks.run("queues names libcrypto", check_queues_names_libcrypto, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    checks.finish()


if __name__ == "__main__":
    main()
