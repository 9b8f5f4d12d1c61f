# SPDX-License-Identifier: MIT
"""End to end: the streaming JPEG paths and the PNG speed settings, through `imgbus process` and
through a real server driven with curl. Checks which path ran, that the paths agree on the
pixels, that hostile files still fail, and that --png-level reaches the encoder."""
import os
import subprocess
import tempfile

import imgbus_server
from imgbus_server import Checks, Server, gray_pixels, image_shape

PHOTO = "test.jpg"


def data(name):
    return os.path.join(imgbus_server.TEST_DATA, name)


def process(*args):
    result = subprocess.run([imgbus_server.IMGBUS_BIN, "process", *args],
                            capture_output=True, text=True, timeout=60)
    return result.returncode, result.stdout, result.stderr


def reported_path(stdout):
    for line in stdout.splitlines():
        if line.startswith("path "):
            return line.split()[1]
    raise AssertionError(f"no path line in: {stdout}")


def check_process_paths(work):
    outputs = {}
    for choice, expected in (("auto", "luma-stream"), ("stream", "stream"),
                             ("whole-image", "whole-image")):
        out = os.path.join(work, f"{choice}.jpg")
        code, stdout, stderr = process(data(PHOTO), out, "--path", choice, "--threads", "2")
        assert code == 0, f"--path {choice} failed: {stderr}"
        assert reported_path(stdout) == expected, f"--path {choice} ran {stdout}"
        with open(out, "rb") as file:
            assert image_shape(file.read()) == ("jpeg", 1920, 1080, 1)
        outputs[choice] = gray_pixels(out)
    assert outputs["stream"] == outputs["whole-image"], \
        "the RGB stream and the whole-image path wrote different pixels"
    luma, whole = outputs["auto"], outputs["whole-image"]
    mean = sum(abs(a - b) for a, b in zip(luma[::31], whole[::31])) / len(luma[::31])
    assert mean < 1.0, f"luma-stream differs from whole-image by {mean:.2f} levels on average"


def check_process_falls_back(work):
    # More than one pass, another operation, or a PNG output need the whole image.
    for extra in (["--passes", "2"], ["--op", "invert"]):
        code, stdout, stderr = process(data(PHOTO), os.path.join(work, "x.jpg"), *extra)
        assert code == 0, stderr
        assert reported_path(stdout) == "whole-image", f"{extra} ran {stdout}"
    code, stdout, stderr = process(data(PHOTO), os.path.join(work, "x.png"))
    assert code == 0, stderr
    assert reported_path(stdout) == "whole-image", stdout
    # CMYK decodes to RGB first: the stream without the luma shortcut.
    code, stdout, stderr = process(data("hostile/cmyk-imagemagick.jpg"), os.path.join(work, "c.jpg"))
    assert code == 0, stderr
    assert reported_path(stdout) == "stream", stdout


def check_process_hostile(work):
    for name, words in (("hostile/truncated-55pct.jpg", "truncated"),
                        ("hostile/not-an-image.jpg", "JPEG"),
                        ("hostile/jpeg-sof-65500x65500.jpg", "pixels")):
        code, _, stderr = process(data(name), os.path.join(work, "h.jpg"))
        assert code == 1, f"{name} exited with {code}"
        assert words in stderr, f"{name}: {stderr}"
        assert not os.path.exists(os.path.join(work, "h.jpg")), f"{name} left an output file"


def check_png_flags(work):
    sizes = {}
    for level in ("0", "9"):
        out = os.path.join(work, f"level{level}.png")
        code, _, stderr = process(data(PHOTO), out, "--png-level", level, "--png-filter", "paeth")
        assert code == 0, stderr
        sizes[level] = os.path.getsize(out)
    assert sizes["0"] >= 1920 * 1080, f"level 0 should store the rows: {sizes}"
    assert sizes["9"] < sizes["0"] // 2, f"level 9 should compress: {sizes}"
    code, _, stderr = process(data(PHOTO), os.path.join(work, "bad.png"), "--png-filter", "best")
    assert code != 0, "--png-filter best was accepted"
    assert "best" in stderr, stderr


def check_server_paths(server):
    status, _, auto = server.upload(data(PHOTO))
    assert status == 202, auto
    status, _, whole = server.upload(data(PHOTO), threads="1,2", path="whole-image")
    assert status == 202, whole
    ids = [job["id"] for job in auto["jobs"] + whole["jobs"]]
    jobs = server.wait_for_jobs(ids)
    first = jobs[auto["jobs"][0]["id"]]
    assert first["status"] == "done", first
    assert first["timings"]["path"] == "luma-stream", first["timings"]
    assert first["timings"]["kernel_ms"] == 0, first["timings"]
    for job in whole["jobs"]:
        done = jobs[job["id"]]
        assert done["status"] == "done", done
        assert done["timings"]["path"] == "whole-image", done["timings"]
        assert done["timings"]["kernel_ms"] > 0, done["timings"]
    status, _, body = server.upload(data(PHOTO), path="fastest")
    assert status == 400, f"path=fastest answered {status}: {body}"
    assert "fastest" in str(body), body


def check_server_hostile(server):
    status, _, body = server.upload(data("hostile/truncated-55pct.jpg"))
    if status != 202:
        return  # refused at upload: it never reaches a decoder
    job = server.wait_for_jobs([body["jobs"][0]["id"]])[body["jobs"][0]["id"]]
    assert job["status"] == "failed", job
    assert "truncated" in job["error"], job["error"]


def check_server_png_level(server):
    status, _, body = server.upload(data("test_gray.png"))
    assert status == 202, body
    job_id = body["jobs"][0]["id"]
    job = server.wait_for_jobs([job_id])[job_id]
    assert job["status"] == "done", job
    assert job["timings"]["path"] == "whole-image", job["timings"]
    status, _, result = server.get(job["result_url"])
    assert status == 200
    assert image_shape(result)[:3] == ("png", 1920, 1080)
    assert len(result) >= 1920 * 1080, f"--png-level 0 should store the rows: {len(result)} bytes"


def main():
    imgbus_server.require_environment()
    checks = Checks()
    with tempfile.TemporaryDirectory(prefix="imgbus-paths-") as work:
        checks.run("process: each path, same pixels", check_process_paths, work)
        checks.run("process: whole-image where the job needs it", check_process_falls_back, work)
        checks.run("process: hostile files still fail", check_process_hostile, work)
        checks.run("process: --png-level and --png-filter", check_png_flags, work)
    server = Server("--workers", "1", "--png-level", "0").start()
    try:
        checks.run("serve: path in the job timings", check_server_paths, server)
        checks.run("serve: truncated JPEG fails", check_server_hostile, server)
        checks.run("serve: --png-level reaches the encoder", check_server_png_level, server)
    finally:
        if checks.failed:
            print(server.log()[-6000:])
        server.cleanup()
    checks.finish()


if __name__ == "__main__":
    main()
