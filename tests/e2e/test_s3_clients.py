# SPDX-License-Identifier: MIT
"""The aws cli, s3cmd and rclone from Debian's packages against `imgbus serve`'s S3 API.

Every transfer is compared byte for byte with the source file.
"""
import filecmp
import json
import os
import shutil
import tempfile

import imgbus_server
from imgbus_server import Checks, Server
from s3_tools import Tools, random_file


def check_aws_cli(tools, work):
    small = random_file(work, "small.bin", 1000)
    large = random_file(work, "large.bin", 20 * 1024 * 1024 + 5)  # above the aws cli's 8 MiB multipart threshold
    tools.aws("s3", "mb", "s3://aws-cli")
    tools.aws("s3", "cp", small, "s3://aws-cli/dir/small.bin")
    tools.aws("s3", "cp", large, "s3://aws-cli/large.bin")
    listing = tools.aws("s3", "ls", "--recursive", "s3://aws-cli").stdout.decode()
    assert "dir/small.bin" in listing, listing
    assert "large.bin" in listing, listing

    tools.aws("s3", "cp", "s3://aws-cli/large.bin", os.path.join(work, "large.out"))
    assert filecmp.cmp(large, os.path.join(work, "large.out"), shallow=False), "large differs"
    head = json.loads(tools.aws("s3api", "head-object", "--bucket", "aws-cli",
                                "--key", "large.bin").stdout)
    assert head["ContentLength"] == os.path.getsize(large), head
    assert head["ETag"].strip('"').endswith("-3"), f"not a multipart ETag: {head['ETag']}"

    source = os.path.join(work, "tree")
    os.makedirs(os.path.join(source, "a", "b"))
    for name in ("one.txt", "a/two.txt", "a/b/three.txt", "a/b/with space.txt"):
        random_file(source, name, 3000)
    tools.aws("s3", "sync", source, "s3://aws-cli/tree")
    back = os.path.join(work, "tree-back")
    tools.aws("s3", "sync", "s3://aws-cli/tree", back)
    comparison = filecmp.dircmp(source, back)
    assert not comparison.diff_files, comparison.diff_files
    assert not comparison.left_only, comparison.left_only
    for name in ("one.txt", "a/two.txt", "a/b/three.txt", "a/b/with space.txt"):
        assert filecmp.cmp(os.path.join(source, name), os.path.join(back, name), shallow=False)

    tools.aws("s3", "rm", "--recursive", "s3://aws-cli/tree")
    rest = tools.aws("s3", "ls", "--recursive", "s3://aws-cli").stdout.decode()
    assert "tree/" not in rest, rest


def check_aws_s3api(tools, work):
    tools.aws("s3api", "create-bucket", "--bucket", "s3api-calls")
    body = random_file(work, "api.bin", 5000)
    tools.aws("s3api", "put-object", "--bucket", "s3api-calls", "--key", "k1", "--body", body,
              "--content-type", "image/png", "--metadata", "origin=test")
    head = json.loads(tools.aws("s3api", "head-object", "--bucket", "s3api-calls",
                                "--key", "k1").stdout)
    assert head["ContentType"] == "image/png", head
    assert head["Metadata"] == {"origin": "test"}, head
    tools.aws("s3api", "copy-object", "--bucket", "s3api-calls", "--key", "k2",
              "--copy-source", "s3api-calls/k1")
    out = os.path.join(work, "k2.out")
    tools.aws("s3api", "get-object", "--bucket", "s3api-calls", "--key", "k2", out)
    assert filecmp.cmp(body, out, shallow=False)
    listing = json.loads(tools.aws("s3api", "list-objects-v2", "--bucket", "s3api-calls").stdout)
    assert [item["Key"] for item in listing["Contents"]] == ["k1", "k2"], listing
    failed = tools.aws("s3api", "delete-bucket", "--bucket", "s3api-calls", check=False)
    assert failed.returncode != 0, "deleting a non-empty bucket succeeded"
    assert b"BucketNotEmpty" in failed.stderr, failed.stderr
    tools.aws("s3api", "delete-objects", "--bucket", "s3api-calls",
              "--delete", '{"Objects":[{"Key":"k1"},{"Key":"k2"}]}')
    tools.aws("s3api", "delete-bucket", "--bucket", "s3api-calls")
    missing = tools.aws("s3api", "head-bucket", "--bucket", "s3api-calls", check=False)
    assert missing.returncode != 0, "head-bucket found a deleted bucket"
    assert b"404" in missing.stderr, missing.stderr


def check_s3cmd(tools, work):
    data = random_file(work, "s3cmd.bin", 300_000)
    tools.s3cmd("mb", "s3://s3cmd-bucket")
    tools.s3cmd("put", data, "s3://s3cmd-bucket/x/data.bin")
    listing = tools.s3cmd("ls", "--recursive", "s3://s3cmd-bucket").stdout.decode()
    assert "x/data.bin" in listing, listing
    out = os.path.join(work, "s3cmd.out")
    tools.s3cmd("get", "s3://s3cmd-bucket/x/data.bin", out)
    assert filecmp.cmp(data, out, shallow=False)
    tools.s3cmd("del", "s3://s3cmd-bucket/x/data.bin")
    tools.s3cmd("rb", "s3://s3cmd-bucket")


def check_rclone(tools, work):
    source = os.path.join(work, "rclone-src")
    os.makedirs(os.path.join(source, "sub"))
    random_file(source, "a.bin", 10_000)
    random_file(source, "sub/b.bin", 70_000)
    random_file(source, "sub/c.bin", 12 * 1024 * 1024)  # three parts with the flags below
    tools.rclone("mkdir", "imgbus:rclone-bucket")
    multipart = ["--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M"]
    tools.rclone("copy", *multipart, source, "imgbus:rclone-bucket/copy")
    tools.rclone("check", source, "imgbus:rclone-bucket/copy")
    os.remove(os.path.join(source, "a.bin"))
    random_file(source, "d.bin", 500)
    tools.rclone("sync", source, "imgbus:rclone-bucket/copy")
    tools.rclone("check", source, "imgbus:rclone-bucket/copy")
    back = os.path.join(work, "rclone-back")
    tools.rclone("copy", "imgbus:rclone-bucket/copy", back)
    for name in ("d.bin", "sub/b.bin", "sub/c.bin"):
        assert filecmp.cmp(os.path.join(source, name), os.path.join(back, name), shallow=False)
    assert not os.path.exists(os.path.join(back, "a.bin")), "sync did not delete a.bin"


def main():
    imgbus_server.require_environment()
    os.environ.setdefault("IMGBUS_AMQP", "127.0.0.1:0")  # the AMQP listener's port, where built
    server = Server("--workers", "0", "--fsync", "false").start()
    work = tempfile.mkdtemp(prefix="imgbus-s3-clients-")
    tools = Tools(server)
    checks = Checks()
    try:
        checks.run("aws cli s3 cp ls sync rm and multipart", check_aws_cli, tools, work)
        checks.run("aws cli s3api calls", check_aws_s3api, tools, work)
        checks.run("s3cmd put get ls del", check_s3cmd, tools, work)
        checks.run("rclone copy sync check", check_rclone, tools, work)
    finally:
        server.cleanup()
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(tools.home, ignore_errors=True)
    checks.finish()


if __name__ == "__main__":
    main()
