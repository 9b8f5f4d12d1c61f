# SPDX-License-Identifier: MIT
"""Helpers for the S3 end-to-end tests: a SigV4 signer for hand-made requests and the
configuration of the aws cli, s3cmd, rclone and boto3, all pointed at 127.0.0.1 only.

The clients get a private HOME and config files, AWS_EC2_METADATA_DISABLED=true and an explicit
endpoint, so that none of them looks for credentials elsewhere or contacts AWS.
"""
import datetime
import hashlib
import hmac
import http.client
import os
import subprocess
import tempfile
import urllib.parse

REGION = "us-east-1"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def quote(text, keep_slash):
    return urllib.parse.quote(text, safe="/~" if keep_slash else "~")


def signing_key(secret, date):
    key = ("AWS4" + secret).encode()
    for part in (date, REGION, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def sign_headers(server, method, path, query="", headers=None, payload_hash=EMPTY_SHA256,
                 secret=None, when=None):
    """Returns the headers of a request signed with the server's credentials.

    `path` is already encoded; `query` is a list of (name, value) pairs.
    """
    when = when or datetime.datetime.now(datetime.timezone.utc)
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    headers = dict(headers or {})
    headers["host"] = f"127.0.0.1:{server.s3_port}"
    headers["x-amz-date"] = amz_date
    headers["x-amz-content-sha256"] = payload_hash
    names = sorted(name.lower() for name in headers)
    lower = {name.lower(): str(value).strip() for name, value in headers.items()}
    canonical_query = "&".join(f"{quote(k, False)}={quote(v, False)}"
                               for k, v in sorted(query or []))
    canonical = "\n".join([method, path, canonical_query,
                           "".join(f"{name}:{lower[name]}\n" for name in names),
                           ";".join(names), payload_hash])
    scope = f"{amz_date[:8]}/{REGION}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = signing_key(secret or server.secret_key, amz_date[:8])
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={server.access_key}/{scope},"
                                f"SignedHeaders={';'.join(names)},Signature={signature}")
    return headers, key, amz_date, scope, signature


def request(server, method, path, query=None, headers=None, body=b"", sign=True, **sign_args):
    """Sends one request with http.client; returns (status, headers, body)."""
    payload_hash = sign_args.pop("payload_hash", hashlib.sha256(body).hexdigest())
    if sign:
        headers, *_ = sign_headers(server, method, path, query, headers, payload_hash, **sign_args)
    target = path + ("?" + urllib.parse.urlencode(query or [], quote_via=urllib.parse.quote)
                     if query else "")
    connection = http.client.HTTPConnection("127.0.0.1", server.s3_port, timeout=30)
    try:
        connection.request(method, target, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def chunked_body(chunks, key, amz_date, scope, seed_signature):
    """Encodes `chunks` as aws-chunked, signing each as AWS's streaming example does."""
    body = b""
    previous = seed_signature
    for chunk in list(chunks) + [b""]:
        to_sign = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, previous, EMPTY_SHA256,
                             hashlib.sha256(chunk).hexdigest()])
        previous = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        body += f"{len(chunk):x};chunk-signature={previous}\r\n".encode() + chunk + b"\r\n"
    return body


class Tools:
    """Configuration of the command line clients in a private temporary HOME."""

    def __init__(self, server):
        self.server = server
        self.home = tempfile.mkdtemp(prefix="imgbus-s3-home-")
        self.endpoint = server.s3_url
        with open(os.path.join(self.home, "aws-config"), "w") as config:
            config.write(f"[default]\nregion = {REGION}\noutput = json\n")
        self.s3cmd_config = os.path.join(self.home, "s3cmd.cfg")
        with open(self.s3cmd_config, "w") as config:
            config.write("[default]\n"
                         f"access_key = {server.access_key}\nsecret_key = {server.secret_key}\n"
                         f"host_base = 127.0.0.1:{server.s3_port}\n"
                         f"host_bucket = 127.0.0.1:{server.s3_port}\n"
                         f"bucket_location = {REGION}\nuse_https = False\n"
                         "signature_v2 = False\ncheck_ssl_certificate = False\n")
        open(os.path.join(self.home, "rclone.conf"), "w").close()

    def environment(self):
        env = {
            "HOME": self.home,
            "PATH": "/usr/bin:/bin",
            "AWS_ACCESS_KEY_ID": self.server.access_key,
            "AWS_SECRET_ACCESS_KEY": self.server.secret_key,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": os.path.join(self.home, "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(self.home, "aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_PAGER": "",
            "RCLONE_CONFIG": os.path.join(self.home, "rclone.conf"),
            "RCLONE_CONFIG_IMGBUS_TYPE": "s3",
            "RCLONE_CONFIG_IMGBUS_PROVIDER": "Other",
            "RCLONE_CONFIG_IMGBUS_ENDPOINT": self.endpoint,
            "RCLONE_CONFIG_IMGBUS_ACCESS_KEY_ID": self.server.access_key,
            "RCLONE_CONFIG_IMGBUS_SECRET_ACCESS_KEY": self.server.secret_key,
            "RCLONE_CONFIG_IMGBUS_REGION": REGION,
            "RCLONE_CONFIG_IMGBUS_FORCE_PATH_STYLE": "true",
        }
        return env

    def run(self, *args, timeout=180, check=True):
        result = subprocess.run(list(args), capture_output=True, env=self.environment(),
                                timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(args[:4])} failed with {result.returncode}:\n"
                                 + result.stderr.decode(errors="replace")[-2000:])
        return result

    def aws(self, *args, **kwargs):
        return self.run("/usr/bin/aws", "--endpoint-url", self.endpoint, *args, **kwargs)

    def s3cmd(self, *args, **kwargs):
        return self.run("/usr/bin/s3cmd", "-c", self.s3cmd_config, *args, **kwargs)

    def rclone(self, *args, **kwargs):
        return self.run("/usr/bin/rclone", *args, **kwargs)


def boto3_client(server):
    """A boto3 S3 client bound to the server, with no other credential source."""
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    import boto3
    from botocore.config import Config
    session = boto3.session.Session(aws_access_key_id=server.access_key,
                                    aws_secret_access_key=server.secret_key,
                                    region_name=REGION)
    return session.client("s3", endpoint_url=server.s3_url,
                          config=Config(signature_version="s3v4",
                                        s3={"addressing_style": "path"},
                                        retries={"max_attempts": 1}))


def random_file(directory, name, size):
    path = os.path.join(directory, name)
    with open(path, "wb") as file:
        file.write(os.urandom(size))
    return path
