# SPDX-License-Identifier: MIT
"""python3-boto3 against `imgbus serve`: put, get with Range, list pagination over more than 1000
keys, presigned GET (and its expiry), multipart upload, conditional GET and the error codes."""
import hashlib
import os
import time
import urllib.error
import urllib.request

import imgbus_server
from imgbus_server import Checks, Server
from s3_tools import boto3_client


def error_code(call):
    from botocore.exceptions import ClientError
    try:
        call()
    except ClientError as error:
        return error.response["Error"]["Code"], error.response["ResponseMetadata"]["HTTPStatusCode"]
    raise AssertionError("the call succeeded but an error was expected")


def check_put_get_range(s3):
    s3.create_bucket(Bucket="boto")
    data = os.urandom(100_000)
    put = s3.put_object(Bucket="boto", Key="dir/obj.bin", Body=data, ContentType="image/jpeg",
                        Metadata={"camera": "x100"})
    assert put["ETag"] == f'"{hashlib.md5(data).hexdigest()}"', put["ETag"]
    whole = s3.get_object(Bucket="boto", Key="dir/obj.bin")
    assert whole["Body"].read() == data
    assert whole["ContentType"] == "image/jpeg"
    assert whole["Metadata"] == {"camera": "x100"}
    for header, expected in (("bytes=0-9", data[:10]), ("bytes=99990-", data[99990:]),
                             ("bytes=-5", data[-5:]), ("bytes=50000-50000", data[50000:50001]),
                             ("bytes=99999-200000", data[99999:])):
        part = s3.get_object(Bucket="boto", Key="dir/obj.bin", Range=header)
        assert part["ResponseMetadata"]["HTTPStatusCode"] == 206, header
        assert part["Body"].read() == expected, header
    assert error_code(lambda: s3.get_object(Bucket="boto", Key="dir/obj.bin",
                                            Range="bytes=100000-")) == ("InvalidRange", 416)


def check_conditional_get(s3):
    head = s3.head_object(Bucket="boto", Key="dir/obj.bin")
    code = error_code(lambda: s3.get_object(Bucket="boto", Key="dir/obj.bin",
                                            IfNoneMatch=head["ETag"]))
    assert code == ("304", 304), code
    code = error_code(lambda: s3.get_object(Bucket="boto", Key="dir/obj.bin",
                                            IfModifiedSince=head["LastModified"]))
    assert code == ("304", 304), code
    fresh = s3.get_object(Bucket="boto", Key="dir/obj.bin", IfNoneMatch='"other"')
    assert fresh["ResponseMetadata"]["HTTPStatusCode"] == 200
    code = error_code(lambda: s3.get_object(Bucket="boto", Key="dir/obj.bin", IfMatch='"other"'))
    assert code == ("PreconditionFailed", 412), code


def check_pagination(s3):
    s3.create_bucket(Bucket="many")
    keys = [f"k/{i:05d}" for i in range(1100)] + [f"p{i}/x" for i in range(3)]
    for key in keys:
        s3.put_object(Bucket="many", Key=key, Body=key.encode())
    listed = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket="many", PaginationConfig={
            "PageSize": 400}):
        assert page["KeyCount"] <= 400
        listed += [item["Key"] for item in page.get("Contents", [])]
    assert listed == sorted(keys), (len(listed), listed[:3])
    v1 = []
    for page in s3.get_paginator("list_objects").paginate(Bucket="many"):
        v1 += [item["Key"] for item in page.get("Contents", [])]
    assert v1 == sorted(keys), len(v1)

    folders = s3.list_objects_v2(Bucket="many", Delimiter="/")
    prefixes = [item["Prefix"] for item in folders["CommonPrefixes"]]
    assert prefixes == ["k/", "p0/", "p1/", "p2/"], prefixes
    assert "Contents" not in folders
    paged = s3.list_objects_v2(Bucket="many", Delimiter="/", MaxKeys=2)
    assert paged["IsTruncated"] and len(paged["CommonPrefixes"]) == 2
    rest = s3.list_objects_v2(Bucket="many", Delimiter="/",
                              ContinuationToken=paged["NextContinuationToken"])
    assert [item["Prefix"] for item in rest["CommonPrefixes"]] == ["p1/", "p2/"], rest
    after = s3.list_objects_v2(Bucket="many", Prefix="k/", StartAfter="k/01097")
    assert [item["Key"] for item in after["Contents"]] == ["k/01098", "k/01099"]


def check_presigned(s3):
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "boto", "Key": "dir/obj.bin"},
                                    ExpiresIn=60)
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == s3.get_object(Bucket="boto", Key="dir/obj.bin")["Body"].read()
    tampered = url.replace("dir/obj.bin", "dir/other.bin")
    try:
        urllib.request.urlopen(tampered, timeout=10)
        raise AssertionError("a tampered presigned URL was accepted")
    except urllib.error.HTTPError as error:
        assert error.code == 403, error.code
        assert b"SignatureDoesNotMatch" in error.read()
    short = s3.generate_presigned_url("get_object",
                                      Params={"Bucket": "boto", "Key": "dir/obj.bin"},
                                      ExpiresIn=1)
    time.sleep(2.5)
    try:
        urllib.request.urlopen(short, timeout=10)
        raise AssertionError("an expired presigned URL was accepted")
    except urllib.error.HTTPError as error:
        body = error.read()
        assert error.code == 403, error.code
        assert b"AccessDenied" in body, body
        assert b"expired" in body, body


def check_multipart(s3):
    upload = s3.create_multipart_upload(Bucket="boto", Key="mp/object", ContentType="video/mp4")
    upload_id = upload["UploadId"]
    parts_data = [os.urandom(5 * 1024 * 1024), os.urandom(5 * 1024 * 1024), os.urandom(1234)]
    parts = []
    for number, data in enumerate(parts_data, start=1):
        part = s3.upload_part(Bucket="boto", Key="mp/object", UploadId=upload_id,
                              PartNumber=number, Body=data)
        parts.append({"PartNumber": number, "ETag": part["ETag"]})
    listed = s3.list_parts(Bucket="boto", Key="mp/object", UploadId=upload_id)
    assert [part["PartNumber"] for part in listed["Parts"]] == [1, 2, 3]
    uploads = s3.list_multipart_uploads(Bucket="boto")
    assert [item["UploadId"] for item in uploads["Uploads"]] == [upload_id]

    wrong = [dict(parts[0], ETag='"0000"')] + parts[1:]
    assert error_code(lambda: s3.complete_multipart_upload(
        Bucket="boto", Key="mp/object", UploadId=upload_id,
        MultipartUpload={"Parts": wrong}))[0] == "InvalidPart"
    assert error_code(lambda: s3.complete_multipart_upload(
        Bucket="boto", Key="mp/object", UploadId=upload_id,
        MultipartUpload={"Parts": [parts[1], parts[0]]}))[0] == "InvalidPartOrder"

    done = s3.complete_multipart_upload(Bucket="boto", Key="mp/object", UploadId=upload_id,
                                        MultipartUpload={"Parts": parts})
    digests = b"".join(hashlib.md5(data).digest() for data in parts_data)
    assert done["ETag"] == f'"{hashlib.md5(digests).hexdigest()}-3"', done["ETag"]
    body = s3.get_object(Bucket="boto", Key="mp/object")
    assert body["Body"].read() == b"".join(parts_data)
    assert body["ContentType"] == "video/mp4"
    assert error_code(lambda: s3.list_parts(Bucket="boto", Key="mp/object",
                                            UploadId=upload_id))[0] == "NoSuchUpload"

    small = s3.create_multipart_upload(Bucket="boto", Key="mp/small")["UploadId"]
    tiny = [s3.upload_part(Bucket="boto", Key="mp/small", UploadId=small, PartNumber=n,
                           Body=b"x" * 10)["ETag"] for n in (1, 2)]
    assert error_code(lambda: s3.complete_multipart_upload(
        Bucket="boto", Key="mp/small", UploadId=small, MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": tiny[0]}, {"PartNumber": 2, "ETag": tiny[1]}]}
    ))[0] == "EntityTooSmall"
    s3.abort_multipart_upload(Bucket="boto", Key="mp/small", UploadId=small)
    assert error_code(lambda: s3.abort_multipart_upload(Bucket="boto", Key="mp/small",
                                                        UploadId=small))[0] == "NoSuchUpload"
    assert error_code(lambda: s3.head_object(Bucket="boto", Key="mp/small"))[1] == 404


def check_errors(s3):
    assert error_code(lambda: s3.get_object(Bucket="boto", Key="missing")) == ("NoSuchKey", 404)
    assert error_code(lambda: s3.get_object(Bucket="nobucket", Key="k")) == ("NoSuchBucket", 404)
    assert error_code(lambda: s3.create_bucket(Bucket="boto")) == ("BucketAlreadyOwnedByYou", 409)
    assert error_code(lambda: s3.delete_bucket(Bucket="boto")) == ("BucketNotEmpty", 409)
    assert error_code(lambda: s3.put_object(Bucket="boto", Key="k" * 1025, Body=b"x")) == (
        "KeyTooLongError", 400)
    assert error_code(lambda: s3.put_object(Bucket="boto", Key="a/../b", Body=b"x"))[1] == 400
    result = s3.delete_objects(Bucket="boto", Delete={"Objects": [{"Key": "dir/obj.bin"},
                                                                  {"Key": "never-existed"}]})
    assert sorted(item["Key"] for item in result["Deleted"]) == ["dir/obj.bin", "never-existed"]
    s3.copy_object(Bucket="boto", Key="copy", CopySource={"Bucket": "boto", "Key": "mp/object"})
    assert s3.head_object(Bucket="boto", Key="copy")["ContentLength"] == 10 * 1024 * 1024 + 1234


def main():
    imgbus_server.require_environment()
    os.environ.setdefault("IMGBUS_AMQP", "127.0.0.1:0")  # the AMQP listener's port, where built
    server = Server("--workers", "0", "--fsync", "false").start()
    s3 = boto3_client(server)
    checks = Checks()
    try:
        checks.run("put and get with Range", check_put_get_range, s3)
        checks.run("conditional get", check_conditional_get, s3)
        checks.run("list pagination over 1000 keys", check_pagination, s3)
        checks.run("presigned get and expiry", check_presigned, s3)
        checks.run("multipart upload and its errors", check_multipart, s3)
        checks.run("error codes and copy", check_errors, s3)
    finally:
        server.cleanup()
    checks.finish()


if __name__ == "__main__":
    main()
