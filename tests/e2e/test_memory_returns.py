# SPDX-License-Identifier: MIT
"""End to end: after a burst of large jobs, `imgbus serve` gives the memory back.

Twenty 12 MP JPEG uploads (made with ImageMagick from test.jpg) are sharpened on two workers.
Sharpening needs the whole decoded image, so each job holds tens of MB while it runs (the RGB
image alone is 36 MB). Once the jobs are done and
the workers are idle, the server's resident memory must come back to within a margin of what it
was before the burst: memory that stays would be a leak or buffers kept for no one. The margin
is generous (less than one job's working set), and no time is measured."""
import os
import shutil
import subprocess
import tempfile
import time

import imgbus_server
from imgbus_server import Checks, Server

JOBS = 20
# Less than the 36 MB RGB buffer of one 12 MP job, far less than the jobs' buffers together.
MARGIN_MIB = 32


def status_mib(pid, field):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field} for process {pid}")


def settled_rss_mib(pid):
    """VmRSS once it stops falling: the idle workers trim the heap shortly after their last job."""
    last = status_mib(pid, "VmRSS")
    for _ in range(20):
        time.sleep(0.5)
        now = status_mib(pid, "VmRSS")
        if now >= last - 0.5:
            return now
        last = now
    return last


def make_large_jpeg(workdir):
    convert = shutil.which("convert")
    assert convert, "ImageMagick's convert is missing; run scripts/install-deps.sh --test"
    path = os.path.join(workdir, "12mp.jpg")
    source = os.path.join(imgbus_server.TEST_DATA, "test.jpg")
    subprocess.run([convert, source, "-resize", "4000x3000!", "-quality", "90", path],
                   check=True, timeout=120)
    return path


def check_memory_returns(server, image):
    pid = server.process.pid
    idle = settled_rss_mib(pid)
    job_ids = []
    for _ in range(JOBS):
        status, _, body = server.upload(image, op="sharpen")
        assert status == 202, f"upload answered {status}: {body}"
        job_ids.append(body["jobs"][0]["id"])
    jobs = server.wait_for_jobs(job_ids, timeout=240)
    failed = [job for job in jobs.values() if job["status"] != "done"]
    assert not failed, f"jobs failed: {failed[:2]}"
    after = settled_rss_mib(pid)
    peak = status_mib(pid, "VmHWM")
    print(f"RSS idle {idle:.1f} MiB, peak {peak:.1f} MiB during {JOBS} 12 MP jobs, "
          f"{after:.1f} MiB after them")
    assert peak > idle + MARGIN_MIB, \
        f"the peak {peak:.1f} MiB is too low for {JOBS} 12 MP jobs to have run"
    assert after < idle + MARGIN_MIB, \
        f"RSS stayed at {after:.1f} MiB after the jobs, {after - idle:.1f} MiB above idle"


def main():
    checks = Checks()
    workdir = tempfile.mkdtemp(prefix="imgbus-memory-")
    server = None
    try:
        image = make_large_jpeg(workdir)
        server = Server("--workers", "2").start()
        checks.run("RSS returns near idle after 20 large jobs", check_memory_returns, server,
                   image)
    finally:
        if server:
            server.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)
    checks.finish()


if __name__ == "__main__":
    main()
