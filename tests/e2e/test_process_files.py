# SPDX-License-Identifier: MIT
"""End to end: how `imgbus process` reads its input and writes its output.

The checks cover empty, sparse, truncated and piped input, output folders that cannot
take the file, and a write that fails in the middle of the streamed JPEG. OUT may be a FIFO, a
link to standard output or a symbolic link, each a stand-in in a temporary folder. Two runs to
one OUT, `ulimit -f` and SIGTERM leave no temporary file. The streaming and whole-image paths
must write the same bytes."""
import os
import resource
import signal
import subprocess
import tempfile
import threading
import time

import imgbus_server
from imgbus_server import Checks

PHOTO = os.path.join(imgbus_server.TEST_DATA, "test.jpg")


def process(*args, stdin=subprocess.DEVNULL, preexec_fn=None):
    result = subprocess.run([imgbus_server.IMGBUS_BIN, "process", *args], stdin=stdin,
                            capture_output=True, text=True, timeout=60, preexec_fn=preexec_fn)
    return result.returncode, result.stdout, result.stderr


def leftovers(folder):
    return [name for name in os.listdir(folder) if "tmp-imgbus" in name]


def assert_nothing_written(output):
    assert not os.path.exists(output), f"{output} was written"
    left = leftovers(os.path.dirname(output))
    assert not left, f"temporary files left behind: {left}"


def check_empty_input(work):
    empty = os.path.join(work, "empty.jpg")
    open(empty, "wb").close()
    output = os.path.join(work, "out.jpg")
    code, _, stderr = process(empty, output)
    assert code == 1, f"exit {code}: {stderr}"
    assert f"{empty}: input is empty (0 bytes)" in stderr, stderr
    assert_nothing_written(output)


def check_sparse_input_over_limit(work):
    huge = os.path.join(work, "huge.jpg")
    with open(huge, "wb") as file:
        file.truncate((1 << 30) + 1)  # sparse: takes no disk blocks
    output = os.path.join(work, "out.jpg")
    code, _, stderr = process(huge, output)
    assert code == 1, f"exit {code}: {stderr}"
    assert f"{huge}: file is 1073741825 bytes, over the 1 GiB input limit" in stderr, stderr
    assert_nothing_written(output)


def check_truncated_input(work):
    with open(PHOTO, "rb") as file:
        photo = file.read()
    for path in ("auto", "whole-image"):
        cut = os.path.join(work, "cut.jpg")
        with open(cut, "wb") as file:
            file.write(photo[:len(photo) * 2 // 3])
        output = os.path.join(work, "out.jpg")
        code, _, stderr = process(cut, output, "--path", path)
        assert code == 1, f"--path {path}: exit {code}: {stderr}"
        assert "truncated" in stderr, stderr
        assert_nothing_written(output)


def check_piped_input(work):
    from_file = os.path.join(work, "file.jpg")
    code, _, stderr = process(PHOTO, from_file)
    assert code == 0, stderr
    from_pipe = os.path.join(work, "pipe.jpg")
    with subprocess.Popen(["cat", PHOTO], stdout=subprocess.PIPE) as cat:
        code, stdout, stderr = process("/dev/stdin", from_pipe, stdin=cat.stdout)
    assert code == 0, stderr
    assert "luma-stream" in stdout, stdout
    with open(from_file, "rb") as a, open(from_pipe, "rb") as b:
        assert a.read() == b.read(), "piped input gave other bytes than the file"


def check_output_folder_errors(work):
    plain_file = os.path.join(work, "plain-file")
    open(plain_file, "w").close()
    targets = [os.path.join(work, "missing", "out.jpg"), os.path.join(plain_file, "out.jpg")]
    if os.geteuid() == 0:
        targets.append("/sys/out.jpg")  # root ignores mode bits; sysfs rejects new files
    else:
        read_only = os.path.join(work, "read-only")
        os.mkdir(read_only, 0o555)
        targets.append(os.path.join(read_only, "out.jpg"))
    for output in targets:
        for path in ("auto", "whole-image"):
            code, _, stderr = process(PHOTO, output, "--path", path)
            assert code == 1, f"{output} --path {path}: exit {code}: {stderr}"
            assert f"{output}: cannot write the output file" in stderr, stderr
            assert "check that its folder exists and is writable" in stderr, stderr
            if os.path.isdir(os.path.dirname(output)) and output.startswith(work):
                assert not leftovers(os.path.dirname(output)), "a temporary file was left behind"


def check_output_is_a_folder(work):
    output = os.path.join(work, "folder.jpg")
    os.mkdir(output)
    code, _, stderr = process(PHOTO, output)
    assert code == 1, f"exit {code}: {stderr}"
    assert f"{output}: cannot write the output file: Is a directory" in stderr, stderr
    assert not os.listdir(output), "something was left in the folder"
    assert not leftovers(work), "a temporary file was left behind"


def limit_file_size():
    # write(2) past 100 kB fails with EFBIG; SIGXFSZ stays ignored across exec.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, resource.RLIM_INFINITY))


def check_failed_write(work):
    output = os.path.join(work, "out.jpg")
    for path in ("auto", "stream", "whole-image"):
        code, _, stderr = process(PHOTO, output, "--path", path, preexec_fn=limit_file_size)
        assert code == 1, f"--path {path}: exit {code}: {stderr}"
        assert f"writing {work}/.out.jpg.tmp-imgbus-" in stderr, stderr
        assert "failed: File too large" in stderr, stderr
        assert_nothing_written(output)


def check_file_size_limit_with_default_signal(work):
    # As `ulimit -f` in a shell: SIGXFSZ keeps its default action, which ends the process.
    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, resource.RLIM_INFINITY))

    output = os.path.join(work, "out.jpg")
    code, _, stderr = process(PHOTO, output, preexec_fn=limit)
    assert code == 1, f"exit {code}: {stderr}"
    assert "failed: File too large" in stderr, stderr
    assert_nothing_written(output)


def check_sigterm_removes_temporary(work):
    folder = os.path.join(work, "sigterm")
    os.mkdir(folder)
    output = os.path.join(folder, "out.png")
    command = [imgbus_server.IMGBUS_BIN, "process", PHOTO, output, "--path", "whole-image",
               "--op", "sharpen", "--passes", "10000", "--threads", "1"]
    with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as run:
        deadline = time.monotonic() + 60
        while not leftovers(folder) and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert leftovers(folder), "the temporary file never appeared"
        run.terminate()
        assert run.wait(timeout=60) == -signal.SIGTERM, run.returncode
    assert_nothing_written(output)


def check_two_runs_to_one_output(work):
    folder = os.path.join(work, "two-runs")
    os.mkdir(folder)
    output = os.path.join(folder, "out.jpg")
    command = [imgbus_server.IMGBUS_BIN, "process", PHOTO, output]
    runs = [subprocess.Popen(command, stdout=subprocess.DEVNULL) for _ in range(4)]
    assert [run.wait(timeout=60) for run in runs] == [0, 0, 0, 0]
    alone = os.path.join(work, "alone.jpg")
    assert process(PHOTO, alone)[0] == 0
    with open(output, "rb") as a, open(alone, "rb") as b:
        assert a.read() == b.read(), "OUT of the runs differs from a single run"
    assert os.listdir(folder) == ["out.jpg"], os.listdir(folder)
    assert os.stat(output).st_mode & 0o777 == 0o666 & ~current_umask()


def current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_fifo_output(work):
    fifo = os.path.join(work, "fifo")
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(open(fifo, "rb").read()))
    reader.start()
    code, _, stderr = process(PHOTO, fifo)
    reader.join(timeout=60)
    assert code == 0, stderr
    alone = os.path.join(work, "alone.jpg")
    assert process(PHOTO, alone)[0] == 0
    with open(alone, "rb") as file:
        assert received == [file.read()], "the FIFO reader got other bytes"
    assert os.path.exists(fifo), "the FIFO was removed"
    assert not os.path.isfile(fifo), "the FIFO was replaced"


def check_stdout_link_output(work):
    # A link in the temporary folder replaces /dev/stdout here, because both are links into /proc.
    link = os.path.join(work, "stdout")
    os.symlink("/proc/self/fd/1", link)
    result = subprocess.run([imgbus_server.IMGBUS_BIN, "process", PHOTO, link],
                            stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(b"\xff\xd8"), result.stdout[:80]
    assert os.readlink(link) == "/proc/self/fd/1", "the link was replaced"
    # The report goes to standard error, so standard output contains only the image.
    regular = os.path.join(work, "regular.jpg")
    code, _, stderr = process(PHOTO, regular)
    assert code == 0, stderr
    with open(regular, "rb") as file:
        assert result.stdout == file.read(), result.stdout[-80:]
    assert b"output  " in result.stderr, result.stderr


def check_symlink_output(work):
    os.mkdir(os.path.join(work, "real"))
    target = os.path.join(work, "real", "target.jpg")
    link = os.path.join(work, "link.jpg")
    os.symlink("real/target.jpg", link)
    for run in ("dangling link", "link to a file"):
        code, _, stderr = process(PHOTO, link)
        assert code == 0, f"{run}: {stderr}"
        assert os.path.islink(link), f"{run}: the link was replaced"
        assert os.path.getsize(target) > 0, run
    assert os.listdir(os.path.join(work, "real")) == ["target.jpg"]


def check_paths_write_same_bytes(work):
    files = {}
    for path in ("stream", "whole-image"):
        output = os.path.join(work, f"{path}.jpg")
        code, stdout, stderr = process(PHOTO, output, "--path", path, "--threads", "2")
        assert code == 0, stderr
        with open(output, "rb") as file:
            files[path] = file.read()
        assert f"{len(files[path])} bytes" in stdout.splitlines()[-1], stdout
    assert files["stream"] == files["whole-image"], "the stream and whole-image files differ"


def main():
    imgbus_server.require_environment()
    checks = Checks()
    with tempfile.TemporaryDirectory(prefix="imgbus-files-") as work:
        checks.run("empty input", check_empty_input, work)
        checks.run("sparse input over 1 GiB", check_sparse_input_over_limit, work)
        checks.run("truncated input", check_truncated_input, work)
        checks.run("input from a pipe", check_piped_input, work)
        checks.run("output folder errors", check_output_folder_errors, work)
        checks.run("output is a folder", check_output_is_a_folder, work)
        checks.run("failed write in the middle", check_failed_write, work)
        checks.run("stream and whole-image bytes", check_paths_write_same_bytes, work)
        checks.run("ulimit -f without SIGXFSZ ignored", check_file_size_limit_with_default_signal,
                   work)
        checks.run("SIGTERM removes the temporary file", check_sigterm_removes_temporary, work)
        checks.run("two runs to one output", check_two_runs_to_one_output, work)
        checks.run("FIFO output", check_fifo_output, work)
        checks.run("standard output link", check_stdout_link_output, work)
        checks.run("symbolic link output", check_symlink_output, work)
    checks.finish()


if __name__ == "__main__":
    main()
