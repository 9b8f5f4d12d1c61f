#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""An imgbus worker in Python: grayscale jobs from AMQP, images from S3.

It joins any imgbus deployment through the job protocol in docs/protocol.md. It consumes
`imgbus.jobs` with a prefetch and reads each job's input object from the S3 store. It converts
the image to BT.601 luma as imgbus does and writes the output object that the job names. It
publishes the `processing` and then the `done` or `failed` event on `imgbus.events`, and only
then acknowledges the job. A job whose store could not be reached is published again with its
`imgbus-attempt` header raised, and after the last try it goes to `imgbus.jobs.dead`.

Needs Debian's python3-pika, python3-boto3 and python3-pil. Configuration comes from the
environment, so that no secret appears on a command line:

  IMGBUS_BROKER           amqp://HOST:PORT/VHOST (default amqp://127.0.0.1:5672/%2F)
  IMGBUS_BROKER_USER      broker user, if not in the URL (for `imgbus serve`: its access key)
  IMGBUS_BROKER_PASSWORD  broker password, if not in the URL (for `imgbus serve`: its secret key)
  IMGBUS_STORE            S3 endpoint, http://HOST:PORT (default http://127.0.0.1:9000)
  IMGBUS_ACCESS_KEY       S3 access key
  IMGBUS_SECRET_KEY       S3 secret key
  IMGBUS_S3_REGION        SigV4 region (default us-east-1)
  IMGBUS_PREFETCH         unacknowledged jobs held at once (default 1)
  IMGBUS_MAX_ATTEMPTS     tries of a job whose store could not be reached (default 3)

Run: IMGBUS_ACCESS_KEY=... IMGBUS_SECRET_KEY=... python3 python_worker.py [--prefetch N]
"""
import argparse
import datetime
import io
import json
import logging
import os
import random
import signal
import socket
import sys
import time
import urllib.parse

import boto3
import botocore.config
import botocore.exceptions
import pika
import pika.exceptions
from PIL import Image, ImageOps

PROTOCOL_VERSION = 1
JOB_QUEUE = "imgbus.jobs"
DEAD_LETTER_QUEUE = "imgbus.jobs.dead"
EVENT_QUEUE = "imgbus.events"
MAX_PIXELS = 100_000_000  # the default --max-pixels of imgbus
JPEG_QUALITY = 90  # the quality imgbus encodes JPEG results with
# BT.601 weights in 8.8 fixed point: imgbus computes (77 R + 150 G + 29 B + 128) >> 8. These
# fractions are exact in float32, and Pillow's matrix convert rounds to nearest, so the bytes
# match imgbus's (checked with Pillow 9.4 on a million random pixels and on tests/data).
LUMA_MATRIX = (77 / 256, 150 / 256, 29 / 256, 0)
TIMING_FIELDS = ("queue_wait_seconds", "fetch_seconds", "decode_seconds", "kernel_seconds",
                 "encode_seconds", "store_seconds", "process_seconds")
MAX_ERROR_CHARACTERS = 4000  # the protocol allows 8192 bytes of UTF-8
EVENT_ATTEMPTS = 5
MAX_BACKOFF_SECONDS = 30.0
MAX_RETRY_PAUSE_SECONDS = 10.0  # before publishing a job again, as imgbus worker does

log = logging.getLogger("imgbus-python-worker")


class JobFailed(Exception):
    """A job that cannot be completed; the message names the stage and the reason."""


class StoreUnavailable(JobFailed):
    """A fetch or store that failed for a reason another try may cure."""


class StopRequested(Exception):
    """SIGTERM or SIGINT arrived while no job was running."""


def parse_arguments():
    env = os.environ.get
    parser = argparse.ArgumentParser(description="imgbus worker for grayscale jobs")
    parser.add_argument("--broker", default=env("IMGBUS_BROKER", "amqp://127.0.0.1:5672/%2F"),
                        help="AMQP URL of the broker; put credentials in the environment, not here")
    parser.add_argument("--store", default=env("IMGBUS_STORE", "http://127.0.0.1:9000"),
                        help="S3 endpoint URL (path-style addressing)")
    parser.add_argument("--prefetch", type=int, default=int(env("IMGBUS_PREFETCH", "1")),
                        help="jobs the broker may deliver before the first is acknowledged")
    parser.add_argument("--max-attempts", type=int,
                        default=int(env("IMGBUS_MAX_ATTEMPTS", "3")),
                        help="tries of a job whose store could not be reached")
    parser.add_argument("--name", default=f"{socket.gethostname()}/{os.getpid()}/py0",
                        help="worker id sent in each event")
    arguments = parser.parse_args()
    if not 1 <= arguments.prefetch <= 65535:
        parser.error(f"--prefetch {arguments.prefetch} is outside 1..65535")
    if not 1 <= arguments.max_attempts <= 100:
        parser.error(f"--max-attempts {arguments.max_attempts} is outside 1..100")
    return arguments


def broker_parameters(url):
    """Build pika parameters from the URL, taking the user and password from the environment."""
    parameters = pika.URLParameters(url)
    parsed = urllib.parse.urlsplit(url)
    user = os.environ.get("IMGBUS_BROKER_USER", urllib.parse.unquote(parsed.username or ""))
    password = os.environ.get("IMGBUS_BROKER_PASSWORD",
                              urllib.parse.unquote(parsed.password or ""))
    if user:
        parameters.credentials = pika.PlainCredentials(user, password)
    parameters.heartbeat = 30
    parameters.blocked_connection_timeout = 60
    return parameters


def s3_client(endpoint):
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint,
        aws_access_key_id=os.environ.get("IMGBUS_ACCESS_KEY"),
        aws_secret_access_key=os.environ.get("IMGBUS_SECRET_KEY"),
        region_name=os.environ.get("IMGBUS_S3_REGION", "us-east-1"),
        config=botocore.config.Config(signature_version="s3v4", s3={"addressing_style": "path"},
                                      retries={"max_attempts": 3, "mode": "standard"}))


def rfc3339_now():
    now = datetime.datetime.now(datetime.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def seconds_since_submitted(job):
    """Return the queue wait, measured from the job's submitted_at (the upload time)."""
    try:
        submitted = datetime.datetime.fromisoformat(job["submitted_at"].replace("Z", "+00:00"))
    except (KeyError, TypeError, ValueError):
        return 0.0
    wait = (datetime.datetime.now(datetime.timezone.utc) - submitted).total_seconds()
    return max(wait, 0.0)


def to_gray(image):
    """Convert an image to BT.601 luma, keeping alpha. Gray input is returned unchanged."""
    if image.mode in ("L", "LA"):
        return image
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGB")
    if image.mode == "RGB":
        return image.convert("L", matrix=LUMA_MATRIX)
    luma = image.convert("RGB").convert("L", matrix=LUMA_MATRIX)
    return Image.merge("LA", (luma, image.getchannel("A")))


class Worker:
    """A consumer of imgbus.jobs with its S3 client; it runs one job at a time."""

    def __init__(self, arguments):
        self.arguments = arguments
        self.s3 = s3_client(arguments.store)
        self.channel = None
        self.busy = False
        self.stop_requested = False
        self.reconnect_attempts = 0  # since the last successful connection

    def publish_event(self, job, status, **fields):
        """Publish one event for `job` (a dict with id, batch and redelivered) as persistent
        JSON, and wait for the broker's confirm."""
        event = {"version": PROTOCOL_VERSION, "id": job["id"], "batch": job["batch"],
                 "status": status, "error": "", "worker": self.arguments.name, "threads": 1,
                 "redelivered": job["redelivered"], **fields, "at": rfc3339_now()}
        event["error"] = event["error"][:MAX_ERROR_CHARACTERS]
        body = json.dumps(event).encode("utf-8")
        properties = pika.BasicProperties(content_type="application/json",
                                          content_encoding="utf-8", delivery_mode=2,
                                          message_id=f"{job['id']}:{status}")
        # With publisher confirms on, basic_publish returns once the broker has the event, and
        # mandatory turns a missing event queue into an error instead of a silent drop.
        for attempt in range(1, EVENT_ATTEMPTS + 1):
            try:
                self.channel.basic_publish("", EVENT_QUEUE, body, properties, mandatory=True)
                return
            except (pika.exceptions.NackError, pika.exceptions.UnroutableError) as error:
                log.warning("job %s: the broker rejected the %s event (attempt %d of %d): %r",
                            job["id"], status, attempt, EVENT_ATTEMPTS, error)
                if attempt < EVENT_ATTEMPTS:
                    time.sleep(0.05 * 2 ** attempt)
        log.error("job %s: %s event not published after %d attempts; acknowledging the job "
                  "anyway, because its output is already stored", job["id"], status,
                  EVENT_ATTEMPTS)

    def on_message(self, channel, method, properties, body):
        self.busy = True
        try:
            self.handle(method, properties, body)
        finally:
            self.busy = False
        if self.stop_requested:
            channel.stop_consuming()

    def handle(self, method, properties, body):
        """Process one delivery, then acknowledge or reject it."""
        tag = method.delivery_tag
        started = time.monotonic()
        try:
            message = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            log.warning("delivery %d: not a JSON job message, rejected: %s", tag, error)
            self.channel.basic_reject(tag, requeue=False)
            return
        if not isinstance(message, dict) or not isinstance(message.get("id"), str) \
                or not message["id"]:
            log.warning("delivery %d: job message without an 'id' string, rejected", tag)
            self.channel.basic_reject(tag, requeue=False)
            return
        job = {"id": message["id"], "redelivered": bool(method.redelivered),
               "batch": message["batch"] if isinstance(message.get("batch"), str) else ""}

        problem = check_message(message)
        if problem:
            log.warning("job %s: message rejected: %s", job["id"], problem)
            self.publish_event(job, "failed", error="message failed: " + problem)
            self.channel.basic_reject(tag, requeue=False)
            return

        self.publish_event(job, "processing")
        timings = dict.fromkeys(TIMING_FIELDS, 0.0)
        timings["queue_wait_seconds"] = seconds_since_submitted(message)
        try:
            width, height = self.run(message, timings)
        except StoreUnavailable as failure:
            self.retry_or_dead_letter(job, tag, properties, body, failure)
            return
        except JobFailed as failure:
            timings["process_seconds"] = time.monotonic() - started
            log.warning("job %s (delivery %d): %s", job["id"], tag, failure)
            self.publish_event(job, "failed", error=str(failure), timings=timings)
            self.channel.basic_reject(tag, requeue=False)
            return
        timings["process_seconds"] = time.monotonic() - started
        self.publish_event(job, "done", timings=timings, width=width, height=height,
                           output=message["output"])
        self.channel.basic_ack(tag)
        log.info("job %s (delivery %d): done in %.3f s", job["id"], tag,
                 timings["process_seconds"])

    def retry_or_dead_letter(self, job, tag, properties, body, failure):
        """Publish a job whose store failed again with its try count raised, or after the last
        try to imgbus.jobs.dead with a failed event, as docs/protocol.md describes."""
        headers = dict(properties.headers or {})
        attempt = headers.get("imgbus-attempt", 1)
        attempt = attempt if isinstance(attempt, int) and attempt >= 1 else 1
        maximum = self.arguments.max_attempts
        if attempt < maximum:
            pause = min(MAX_RETRY_PAUSE_SECONDS, 2.0 ** (attempt - 1))
            log.warning("job %s: try %d of %d failed, trying again in %.0f s: %s", job["id"],
                        attempt, maximum, pause, failure)
            self.channel.connection.sleep(pause)  # keeps answering the broker's heartbeats
            self.publish_job(JOB_QUEUE, body, {**headers, "imgbus-attempt": attempt + 1})
            self.channel.basic_ack(tag)
            return
        log.error("job %s: failed on all %d tries, moved to %s: %s", job["id"], attempt,
                  DEAD_LETTER_QUEUE, failure)
        self.publish_job(DEAD_LETTER_QUEUE, body,
                         {**headers, "imgbus-attempt": attempt,
                          "imgbus-error": str(failure)[:MAX_ERROR_CHARACTERS]})
        self.publish_event(job, "failed", error=f"{failure} (failed on all {attempt} tries; "
                                                f"the job is in {DEAD_LETTER_QUEUE})")
        self.channel.basic_reject(tag, requeue=False)

    def publish_job(self, queue, body, headers):
        properties = pika.BasicProperties(content_type="application/json", delivery_mode=2,
                                          headers=headers)
        self.channel.basic_publish("", queue, body, properties, mandatory=True)

    def run(self, job, timings):
        """Run the stages in order, record each in `timings` and return the output size.

        Raise JobFailed naming the first stage that failed."""
        clock = [time.monotonic()]

        def stage_done(stage):
            now = time.monotonic()
            timings[f"{stage}_seconds"] = now - clock[0]
            clock[0] = now

        if job["op"] != "grayscale":
            raise JobFailed(f"operation failed: this Python worker runs only op 'grayscale', "
                            f"got '{job['op']}'; run imgbus workers for the other operations")
        source, target = job["input"], job["output"]
        try:
            data = self.s3.get_object(Bucket=source["bucket"], Key=source["key"])["Body"].read()
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
            raise store_failure(f"fetch failed: s3://{source['bucket']}/{source['key']}", error)
        stage_done("fetch")

        image, image_format = decode(data)
        stage_done("decode")

        gray = to_gray(image)
        stage_done("kernel")

        output = io.BytesIO()
        try:
            if image_format == "JPEG":
                gray.save(output, "JPEG", quality=JPEG_QUALITY)
            else:
                gray.save(output, "PNG")
        except (OSError, ValueError) as error:
            raise JobFailed(f"encode failed: {error}")
        stage_done("encode")

        try:
            self.s3.put_object(Bucket=target["bucket"], Key=target["key"],
                               Body=output.getvalue(), ContentType=Image.MIME[image_format],
                               Metadata={"job-id": job["id"], "op": job["op"], "threads": "1"})
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
            raise store_failure(f"store failed: s3://{target['bucket']}/{target['key']}", error)
        stage_done("store")
        return gray.width, gray.height

    def consume(self):
        """Connect, consume until stopped or disconnected, and close."""
        connection = pika.BlockingConnection(broker_parameters(self.arguments.broker))
        try:
            self.channel = connection.channel()
            self.channel.confirm_delivery()
            # Passive: the frontend declares the queues with its own arguments (a length
            # limit), and a declare with other arguments fails with PRECONDITION_FAILED.
            self.channel.queue_declare(JOB_QUEUE, passive=True)
            self.channel.queue_declare(EVENT_QUEUE, passive=True)
            self.channel.queue_declare(DEAD_LETTER_QUEUE, passive=True)
            self.channel.basic_qos(prefetch_count=self.arguments.prefetch)
            self.channel.basic_consume(JOB_QUEUE, self.on_message)
            log.info("consuming %s with prefetch %d as %s", JOB_QUEUE, self.arguments.prefetch,
                     self.arguments.name)
            self.reconnect_attempts = 0
            self.channel.start_consuming()
        finally:
            # Closing returns every job this worker did not acknowledge to the queue.
            try:
                if connection.is_open:
                    connection.close()
            except pika.exceptions.AMQPError as error:
                log.warning("closing the broker connection failed: %r", error)

    def run_forever(self):
        """Consume until a signal, reconnecting with exponential back-off and jitter."""
        try:
            while not self.stop_requested:
                try:
                    self.consume()
                    if not self.stop_requested:
                        log.warning("the broker cancelled the consumer; reconnecting")
                except (pika.exceptions.AMQPError, OSError) as error:
                    self.reconnect_attempts += 1
                    delay = min(MAX_BACKOFF_SECONDS, 0.5 * 2 ** self.reconnect_attempts)
                    delay *= random.uniform(0.5, 1.0)
                    log.warning("broker %s: %r; reconnecting in %.1f s (attempt %d)",
                                redact(self.arguments.broker), error, delay,
                                self.reconnect_attempts)
                    time.sleep(delay)
        except StopRequested:
            pass

    def request_stop(self, signum, _frame):
        """Stop after the current job, or at once when no job is running."""
        log.info("signal %d: stopping after the current job", signum)
        self.stop_requested = True
        if not self.busy:
            raise StopRequested()


def store_failure(what, error):
    """Return the failure for an S3 error: StoreUnavailable when the store could not be reached
    or returned a server error (5xx), JobFailed otherwise (no such key, access denied)."""
    message = f"{what}: {error}"
    if isinstance(error, botocore.exceptions.ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return StoreUnavailable(message) if status >= 500 else JobFailed(message)
    transient = (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError)
    return StoreUnavailable(message) if isinstance(error, transient) else JobFailed(message)


def decode(data):
    """Decode an image, turning a JPEG upright, and return it with its format."""
    try:
        image = Image.open(io.BytesIO(data))
        image_format = image.format
        if image_format not in ("JPEG", "PNG"):
            raise JobFailed(f"decode failed: the input is {image_format}, not JPEG or PNG")
        if image.width * image.height > MAX_PIXELS:
            raise JobFailed(f"decode failed: {image.width}x{image.height} is more than "
                            f"{MAX_PIXELS} pixels")
        image.load()
        if image_format == "JPEG":
            image = ImageOps.exif_transpose(image)  # imgbus applies the EXIF orientation too
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise JobFailed(f"decode failed: {error}")
    return image, image_format


def check_message(job):
    """Return why a job message breaks the protocol, or None."""
    version = job.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        return f"field 'version' must be a positive integer, got {version!r}"
    if version > PROTOCOL_VERSION:
        return (f"protocol version {version} is newer than version {PROTOCOL_VERSION}, "
                "the one this worker reads; upgrade the worker")
    if not isinstance(job.get("op"), str) or not job["op"]:
        return "field 'op' is missing"
    for field in ("input", "output"):
        ref = job.get(field)
        if not isinstance(ref, dict) or not all(isinstance(ref.get(k), str) and ref[k]
                                                for k in ("bucket", "key")):
            return f"field '{field}' must be an object with 'bucket' and 'key' strings"
    return None


def redact(url):
    """Return the URL without its password, for log lines."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.password is None:
        return url
    host = parsed.hostname + (f":{parsed.port}" if parsed.port else "")
    return urllib.parse.urlunsplit(parsed._replace(netloc=f"{parsed.username}:***@{host}"))


def main():
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("pika").setLevel(logging.WARNING)
    worker = Worker(parse_arguments())
    signal.signal(signal.SIGTERM, worker.request_stop)
    signal.signal(signal.SIGINT, worker.request_stop)
    log.info("broker %s, store %s", redact(worker.arguments.broker), worker.arguments.store)
    worker.run_forever()
    log.info("stopped")


if __name__ == "__main__":
    main()
