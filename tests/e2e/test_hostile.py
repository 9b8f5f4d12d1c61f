# SPDX-License-Identifier: MIT
"""Sends every file in tests/data/hostile to a real server with curl and checks the behaviour that
tests/data/README.md expects of each: a correct result, or a 4xx at upload, or a failed job whose
reason names the problem. Then checks that the server still serves and never allocated much."""
import os
import subprocess

import imgbus_server
from imgbus_server import Checks, Server, image_shape

# Each file maps to its expected outcome and to words in lower case. The error message must
# contain one of those words.
#   "ok": the job is done and the result has the input's size
#   "ok_alpha": done, and the PNG result keeps an alpha channel (gray + alpha)
#   "reject": 4xx at upload
#   "reject_or_fail": 4xx at upload or a failed job
EXPECTED = {
    "adobe-cmyk-transform0.jpg": ("ok", ()),
    "adobe-ycck-transform2.jpg": ("ok", ()),
    "cmyk-imagemagick.jpg": ("ok", ()),
    "arithmetic.jpg": ("ok", ()),
    "grayscale.jpg": ("ok", ()),
    "progressive.jpg": ("ok", ()),
    "trailing-garbage-ok.jpg": ("ok", ()),
    "1x1-420.jpg": ("ok", ()),
    "17x17-420.jpg": ("ok", ()),
    "3x4097-420.jpg": ("ok", ()),
    "gray-alpha.png": ("ok_alpha", ()),
    "palette-trns.png": ("ok_alpha", ()),
    "truncated-55pct.jpg": ("reject_or_fail", ("truncated",)),
    "truncated-60pct.png": ("reject_or_fail", ("truncated",)),
    "bad-crc.png": ("reject_or_fail", ("crc", "checksum")),
    "empty.jpg": ("reject", ("empty",)),
    "not-an-image.jpg": ("reject", ("jpeg", "png", "format")),
    "headers-only.jpg": ("reject_or_fail", ("truncated", "no image data", "scan")),
    "jpeg-sof-65500x65500.jpg": ("reject", ("limit",)),
    "png-declared-30000x30000-rgb.png": ("reject", ("limit",)),
    "png-width-2000000.png": ("reject", ("limit",)),
    "jpeg-height0.jpg": ("reject", ("zero", "0")),
    "width0.png": ("reject", ("zero", "0")),
}


def mentions(message, words):
    lowered = message.lower()
    return any(word in lowered for word in words)


def check_file(server, name):
    outcome, words = EXPECTED[name]
    path = os.path.join(imgbus_server.TEST_DATA, "hostile", name)
    status, _, body = server.upload(path, threads="1,2")

    if 400 <= status < 500:
        assert outcome in ("reject", "reject_or_fail"), f"{name} was rejected with {status}: {body}"
        assert isinstance(body, dict) and body.get("message"), f"no JSON message: {body!r}"
        assert mentions(body["message"], words), \
            f"the message {body['message']!r} names none of {words}"
        return
    assert status == 202, f"{name}: upload answered {status}: {body!r}"
    assert outcome != "reject", f"{name} should be rejected at upload but was accepted"

    jobs = server.wait_for_jobs([job["id"] for job in body["jobs"]])
    for job in jobs.values():
        if outcome == "reject_or_fail":
            assert job["status"] == "failed", f"{name} must not succeed: {job}"
            assert mentions(job["error"], words), f"the reason {job['error']!r} names none of {words}"
            status, _, _ = server.get(f"/api/jobs/{job['id']}/result")
            assert status in (404, 409), f"a failed job served a result ({status})"
            continue
        assert job["status"] == "done", f"{name} failed: {job['error']}"
        status, _, data = server.get(job["result_url"])
        assert status == 200, status
        result_format, width, height, channels = image_shape(data)
        source_format, source_width, source_height, _ = image_shape(open(path, "rb").read())
        assert (result_format, width, height) == (source_format, source_width, source_height), \
            f"result {result_format} {width}x{height}, input {source_format} " \
            f"{source_width}x{source_height}"
        expected_channels = 2 if outcome == "ok_alpha" else 1
        assert channels == expected_channels, f"result has {channels} channels"


def check_still_serving(server):
    status, _, _ = server.get("/healthz")
    assert status == 200, f"/healthz answered {status}"
    status, _, body = server.upload(os.path.join(imgbus_server.TEST_DATA, "test.jpg"))
    assert status == 202, body
    job = server.wait_for_jobs([body["jobs"][0]["id"]])[body["jobs"][0]["id"]]
    assert job["status"] == "done", job


def check_memory(server):
    peak = server.peak_rss_mib()
    assert peak < 400, f"peak resident memory {peak:.0f} MiB: some input caused a large allocation"


def check_malformed_requests(server):
    cases = [
        (["-F", "nothing=here"], 400),  # multipart without a file part
        (["-H", "Content-Type: multipart/form-data; boundary=xyz", "--data-binary",
          "--xyz\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.jpg\"\r\n\r\nab"], 400),
        (["-H", "Content-Type: multipart/form-data", "--data-binary", "abc"], 400),
        (["-H", "Content-Type: text/plain", "--data-binary", "hello"], 415),
    ]
    for args, expected in cases:
        result = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", *args,
                                 f"{server.url}/api/jobs"], capture_output=True, timeout=30)
        assert int(result.stdout) == expected, f"curl {args} answered {result.stdout}, not {expected}"
    jpeg = os.path.join(imgbus_server.TEST_DATA, "test.jpg")
    for params, word in ((dict(threads="0"), "threads"), (dict(threads="1,x"), "threads"),
                         (dict(runs="1000000"), "runs"), (dict(passes="-1"), "passes"),
                         (dict(op="no_such_op"), "no_such_op")):
        status, _, body = server.upload(jpeg, **params)
        assert status == 400, f"{params} answered {status}: {body}"
        assert word in body["message"], f"{params}: message {body['message']!r} lacks {word!r}"


def check_all_covered():
    present = set(os.listdir(os.path.join(imgbus_server.TEST_DATA, "hostile")))
    missing = present - set(EXPECTED)
    assert not missing, f"no expectation for {sorted(missing)}"


def main():
    imgbus_server.require_environment()
    checks = Checks()
    server = Server("--workers", "2").start()
    try:
        for name in sorted(EXPECTED):
            checks.run(name, check_file, server, name)
        checks.run("every hostile file has an expectation", check_all_covered)
        checks.run("malformed requests get 4xx", check_malformed_requests, server)
        checks.run("server still serves", check_still_serving, server)
        checks.run("no large allocation", check_memory, server)
    finally:
        if checks.failed:
            print(server.log()[-8000:])
        server.cleanup()
    checks.finish()


if __name__ == "__main__":
    main()
