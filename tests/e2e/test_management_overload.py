# SPDX-License-Identifier: MIT
"""Overload and recovery with the operator commands.

A burst past the job queue's limit gets only 202 or 503 with Retry-After, and memory stays
bounded. `imgbus queues purge` and `imgbus admin restart-workers` bring the server back. Every
job accepted before the purge ends done or recorded as purged, never lost. The ordered restart
and the interactive menu are checked too."""
import json
import os
import pty
import select
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import imgbus_server
from imgbus_server import Checks, Server
from management_client import imgbus_cli

JPEG = None
BURST = 96
CONCURRENCY = 12
RSS_LIMIT_MIB = 400
PURGED = "purged by an operator"


def admin(server, *args, timeout=120):
    return imgbus_cli("admin", *args, "--url", server.url, "--data-dir", server.data_dir,
                      timeout=timeout)


def admin_status(server):
    code, out, err = admin(server, "status", "--json")
    assert code == 0, out + err
    return json.loads(out)


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0


def burst(server):
    """Uploads BURST slow jobs, CONCURRENCY at a time, and returns the responses."""
    def one(_):
        return server.upload(JPEG, threads="1", passes=400)
    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        return list(pool.map(one, range(BURST)))


def check_overload_and_recovery(server):
    answers = burst(server)
    statuses = [status for status, _, _ in answers]
    assert set(statuses) <= {202, 503}, f"unexpected statuses {sorted(set(statuses))}"
    assert 202 in statuses, statuses
    assert 503 in statuses, statuses
    for status, headers, body in answers:
        if status == 503:
            assert int(headers.get("retry-after", "0")) >= 1, headers
            assert body["error"] == "queue_full", body
    assert server.process.poll() is None, "the server died under the burst"
    rss = rss_mib(server.process.pid)
    assert rss < RSS_LIMIT_MIB, f"resident memory {rss:.0f} MiB after the burst"
    accepted = [body["jobs"][0]["id"] for status, _, body in answers if status == 202]
    print(f"    {len(accepted)} accepted, {statuses.count(503)} refused, RSS {rss:.0f} MiB",
          flush=True)

    # The worker may have taken one more job since the last 503, which makes room for one.
    broker = admin_status(server)["broker"]
    jobs = broker["job_queue"]
    if jobs["messages_ready"] >= jobs["max_length"]:
        assert broker["state"] == "full", broker
    else:
        assert jobs["messages_ready"] == jobs["max_length"] - 1, broker
        assert broker["state"] == "ok", broker
    code, out, err = imgbus_cli("queues", "purge", "imgbus.jobs", "--yes", "--url", server.url,
                                "--data-dir", server.data_dir)
    assert code == 0, out + err
    assert "purged imgbus.jobs" in out, out + err
    code, out, err = admin(server, "restart-workers")
    assert code == 0, out + err
    assert "1 workers running" in out, out + err

    jobs = server.wait_for_jobs(accepted, timeout=120)
    done = [job for job in jobs.values() if job["status"] == "done"]
    purged = [job for job in jobs.values() if job["error"] == PURGED]
    others = [job for job in jobs.values() if job not in done and job not in purged]
    assert not others, f"jobs neither done nor purged: {others[:3]}"
    assert purged, "the purge recorded no job as purged"
    print(f"    {len(done)} done, {len(purged)} recorded as purged", flush=True)

    status = admin_status(server)
    assert status["status"] == "ok", status
    assert status["broker"]["job_queue"]["messages_ready"] == 0, status["broker"]
    upload_status, _, body = server.upload(JPEG, threads="1")
    assert upload_status == 202, body
    job = server.wait_for_jobs([body["jobs"][0]["id"]], timeout=60)
    assert all(j["status"] == "done" for j in job.values()), job
    assert server.process.poll() is None, "the server died during the recovery"


def check_ordered_restart(server):
    ids = []
    for _ in range(3):
        status, _, body = server.upload(JPEG, threads="1", passes=100)
        assert status == 202, body
        ids.append(body["jobs"][0]["id"])
    code, out, err = admin(server, "restart")
    assert code == 0, out + err
    assert "intake paused" in out, out
    assert "resuming intake" in out, out
    jobs = server.wait_for_jobs(ids, timeout=60)
    assert all(job["status"] == "done" for job in jobs.values()), jobs
    assert admin_status(server)["intake"]["paused"] is False


def check_admin_without_terminal(server):
    code, out, err = admin(server)
    assert code != 0, out + err
    assert "choose a subcommand" in err, out + err
    code, out, err = imgbus_cli("admin", "status", "--url", server.url, "--user", "x",
                                "--password", "y")
    assert code != 0, out + err
    assert "401" in err, out + err


def read_until(descriptor, marker, timeout=15):
    data = b""
    deadline = time.monotonic() + timeout
    while marker not in data:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no {marker!r} in {data.decode(errors='replace')!r}"
        ready, _, _ = select.select([descriptor], [], [], remaining)
        if ready:
            data += os.read(descriptor, 4096)
    return data


def check_menu_on_terminal(server):
    """Drives the menu through a pseudo-terminal: status, then quit."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen([imgbus_server.IMGBUS_BIN, "admin", "--url", server.url,
                                "--data-dir", server.data_dir],
                               stdin=terminal, stdout=terminal, stderr=terminal)
    os.close(terminal)
    output = b""
    try:
        output += read_until(controller, b"choice: ")
        os.write(controller, b"1\n")
        output += read_until(controller, b"choice: ")
        os.write(controller, b"q\n")
        assert process.wait(timeout=10) == 0, output.decode(errors="replace")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(controller)
    text = output.decode(errors="replace")
    assert "restart the worker pool" in text, text
    assert "workers" in text, text
    assert "disk" in text, text


def main():
    global JPEG
    imgbus_server.require_environment()
    JPEG = os.path.join(imgbus_server.TEST_DATA, "test.jpg")
    checks = Checks()
    server = Server("--workers", "1", "--queue-max-length", "8", "--retry-after", "1",
                    "--max-passes", "1000").start()
    try:
        checks.run("overload answers 503 and recovers after purge and restart",
                   check_overload_and_recovery, server)
        checks.run("ordered restart drains and resumes", check_ordered_restart, server)
        checks.run("admin needs a subcommand or a terminal", check_admin_without_terminal, server)
        checks.run("the admin menu works on a terminal", check_menu_on_terminal, server)
    finally:
        server.cleanup()
    checks.finish()


if __name__ == "__main__":
    main()
