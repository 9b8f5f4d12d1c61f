# SPDX-License-Identifier: MIT
"""The management API of `imgbus serve` against RabbitMQ's management plugin: every field imgbus
claims has the same name and JSON type in both responses, purge and auth behave alike, and
rabbitmqadmin and `imgbus queues` work against both servers."""
import time

import imgbus_server
from imgbus_server import Checks, Server
from management_client import Api, ManagedRabbitMQ, imgbus_cli, rabbitmqadmin

PROBE = "mgmt-probe"

# The fields imgbus documents in docs/api.md, as dotted paths.
RATE_KEYS = ["publish", "deliver_get", "ack", "redeliver"]
QUEUE_FIELDS = (
    ["name", "vhost", "type", "state", "durable", "auto_delete", "exclusive", "arguments",
     "messages", "messages_ready", "messages_unacknowledged", "message_bytes_ready", "memory",
     "consumers", "messages_details.rate", "messages_ready_details.rate",
     "messages_unacknowledged_details.rate"]
    + [f"message_stats.{key}" for key in RATE_KEYS]
    + [f"message_stats.{key}_details.rate" for key in RATE_KEYS])
OVERVIEW_FIELDS = (
    ["management_version", "product_name", "product_version", "node",
     "object_totals.connections", "object_totals.consumers", "object_totals.exchanges",
     "object_totals.queues", "queue_totals.messages", "queue_totals.messages_ready",
     "queue_totals.messages_unacknowledged", "queue_totals.messages_details.rate",
     "queue_totals.messages_ready_details.rate",
     "queue_totals.messages_unacknowledged_details.rate"]
    + [f"message_stats.{key}" for key in RATE_KEYS]
    + [f"message_stats.{key}_details.rate" for key in RATE_KEYS])

rabbit = None
imgbus = None
rabbit_api = None
imgbus_api = None


def lookup(item, path):
    for part in path.split("."):
        if not isinstance(item, dict) or part not in item:
            raise KeyError(path)
        item = item[part]
    return item


def has_path(item, path):
    try:
        lookup(item, path)
        return True
    except KeyError:
        return False


def json_type(value):
    return {bool: "boolean", int: "integer", float: "float", str: "string", dict: "object",
            list: "array", type(None): "null"}[type(value)]


def compare_fields(fields, reference, ours, what):
    problems = []
    for field in fields:
        if not has_path(reference, field):
            problems.append(f"{field}: missing in RabbitMQ's {what}")
        elif not has_path(ours, field):
            problems.append(f"{field}: missing in imgbus's {what}")
        else:
            theirs, mine = json_type(lookup(reference, field)), json_type(lookup(ours, field))
            if theirs != mine:
                problems.append(f"{field}: RabbitMQ has {theirs}, imgbus has {mine}")
    assert not problems, "; ".join(problems)


def drive_rabbitmq():
    """Publishes, redelivers and acks on a queue so that every message_stats key exists."""
    status, _, body = rabbit_api.call("PUT", f"/api/queues/%2F/{PROBE}", {"durable": True})
    assert status in (201, 204), f"declaring {PROBE} answered {status}: {body}"
    for n in range(4):
        status, _, body = rabbit_api.call("POST", "/api/exchanges/%2F/amq.default/publish", {
            "properties": {}, "routing_key": PROBE, "payload": f"m{n}",
            "payload_encoding": "string"})
        assert status == 200, body
        assert body["routed"], body
    for ackmode in ("reject_requeue_true", "ack_requeue_false"):
        status, _, body = rabbit_api.call("POST", f"/api/queues/%2F/{PROBE}/get", {
            "count": 1, "ackmode": ackmode, "encoding": "auto"})
        assert status == 200 and len(body) == 1, f"get answered {status}: {body}"


def drive_imgbus():
    status, _, body = imgbus.upload(imgbus_server.TEST_DATA + "/test.jpg", threads="1,2")
    assert status == 202, body
    imgbus.wait_for_jobs([job["id"] for job in body["jobs"]], timeout=60)


def wait_for_stats(api, path, keys, timeout=20):
    """RabbitMQ publishes its statistics with a delay; polls until every key is there."""
    deadline = time.monotonic() + timeout
    while True:
        item = api.get(path)
        missing = [key for key in keys if not has_path(item, key)]
        if not missing:
            return item
        assert time.monotonic() < deadline, f"{path} still lacks {missing}: {item}"
        time.sleep(0.5)


def check_queue_fields():
    theirs = wait_for_stats(rabbit_api, f"/api/queues/%2F/{PROBE}", QUEUE_FIELDS)
    ours = wait_for_stats(imgbus_api, "/api/queues/%2F/imgbus.jobs", QUEUE_FIELDS)
    compare_fields(QUEUE_FIELDS, theirs, ours, "queue")
    assert ours["message_stats"]["publish"] == 2, ours
    assert ours["message_stats"]["ack"] == 2, ours


def check_queue_list_fields():
    theirs = next(q for q in rabbit_api.get("/api/queues") if q["name"] == PROBE)
    ours = next(q for q in imgbus_api.get("/api/queues") if q["name"] == "imgbus.jobs")
    compare_fields(QUEUE_FIELDS, theirs, ours, "queue list item")
    for api, name in ((rabbit_api, PROBE), (imgbus_api, "imgbus.jobs")):
        selected = api.get("/api/queues?columns=name,messages")
        item = next(q for q in selected if q["name"] == name)
        assert set(item) == {"name", "messages"}, f"columns ignored by {api.base}: {item}"


def check_overview_fields():
    theirs = wait_for_stats(rabbit_api, "/api/overview", OVERVIEW_FIELDS)
    ours = wait_for_stats(imgbus_api, "/api/overview", OVERVIEW_FIELDS)
    compare_fields(OVERVIEW_FIELDS, theirs, ours, "overview")


def check_auth_and_errors():
    for api in (rabbit_api, imgbus_api):
        stranger = Api(api.base, "guest-or-not", "wrong")
        status, headers, _ = stranger.call("GET", "/api/queues")
        assert status == 401, f"{api.base} answered {status} to a wrong password"
        challenge = {name.lower(): value for name, value in headers.items()}
        assert "Basic" in challenge.get("www-authenticate", ""), headers
        status, _, body = api.call("GET", "/api/queues/%2F/no-such-queue")
        assert status == 404, f"{api.base}: a missing queue answered {status}"
        assert isinstance(body["error"], str), body
        assert isinstance(body["reason"], str), body
        status, _, _ = api.call("DELETE", "/api/queues/%2F/no-such-queue/contents")
        assert status == 404, f"{api.base}: purging a missing queue answered {status}"


def check_purge_alike():
    status, _, _ = rabbit_api.call("DELETE", f"/api/queues/%2F/{PROBE}/contents")
    assert status == 204, status
    status, _, _ = imgbus_api.call("DELETE", "/api/queues/%2F/imgbus.jobs/contents")
    assert status == 204, status


def check_rabbitmqadmin():
    for port, user, password, queue in (
            (rabbit.management_port, "guest", "guest", PROBE),
            (imgbus.port, imgbus.access_key, imgbus.secret_key, "imgbus.jobs")):
        code, out = rabbitmqadmin(port, user, password, "list", "queues")
        assert code == 0, f"list queues on {port}: {out}"
        assert queue in out, f"list queues on {port}: {out}"
        assert "messages" in out, f"list queues on {port}: {out}"
        code, out = rabbitmqadmin(port, user, password, "purge", "queue", f"name={queue}")
        assert code == 0, f"purge queue on {port}: {out}"
        assert "purged" in out, f"purge queue on {port}: {out}"
        code, out = rabbitmqadmin(port, user, "not-the-password", "list", "queues")
        assert code != 0, out
        assert "Access refused" in out, out


def check_imgbus_queues_cli():
    targets = ((rabbit.management_url, "guest", "guest", PROBE),
               (imgbus.url, imgbus.access_key, imgbus.secret_key, "imgbus.jobs"))
    for url, user, password, queue in targets:
        auth = ["--url", url, "--user", user, "--password", password]
        code, out, err = imgbus_cli("queues", "status", *auth)
        assert code == 0, f"status on {url}: {out}{err}"
        assert queue in out, f"status on {url}: {out}{err}"
        assert "publish/s" in out, f"status on {url}: {out}{err}"
        code, out, err = imgbus_cli("queues", "monitor", *auth, "--interval", "0.5",
                                    "--duration", "1.2")
        assert code == 0 and out.count("publish/s") >= 2, f"monitor on {url}: {out}{err}"
        code, out, err = imgbus_cli("queues", "purge", queue, *auth)
        assert code != 0, f"purge without --yes on {url}: {out}{err}"
        assert "--yes" in err, f"purge without --yes on {url}: {out}{err}"
        code, out, err = imgbus_cli("queues", "purge", queue, "--yes", *auth)
        assert code == 0, f"purge on {url}: {out}{err}"
        assert f"purged {queue}" in out, f"purge on {url}: {out}{err}"
        code, out, err = imgbus_cli("queues", "status", "--url", url, "--user", user,
                                    "--password", "wrong")
        assert code != 0, err
        assert "401" in err, err
        assert "--password" in err, err
    # Credentials read from the data directory of a local server.
    code, out, err = imgbus_cli("queues", "status", "--url", imgbus.url,
                                "--data-dir", imgbus.data_dir)
    assert code == 0, out + err
    assert "imgbus.jobs" in out, out + err


def main():
    global rabbit, imgbus, rabbit_api, imgbus_api
    imgbus_server.require_environment()
    checks = Checks()
    rabbit = ManagedRabbitMQ()
    imgbus = Server("--workers", "1")
    try:
        started = time.monotonic()
        rabbit.start()
        print(f"    rabbitmq-server with management answered after "
              f"{time.monotonic() - started:.1f} s", flush=True)
        imgbus.start()
        rabbit_api = Api(rabbit.management_url, "guest", "guest")
        imgbus_api = Api(imgbus.url, imgbus.access_key, imgbus.secret_key)
        drive_rabbitmq()
        drive_imgbus()
        checks.run("queue fields match RabbitMQ's", check_queue_fields)
        checks.run("queue list fields and columns match", check_queue_list_fields)
        checks.run("overview fields match RabbitMQ's", check_overview_fields)
        checks.run("auth and error answers match", check_auth_and_errors)
        checks.run("purge answers 204 on both", check_purge_alike)
        checks.run("rabbitmqadmin list and purge work on both", check_rabbitmqadmin)
        checks.run("imgbus queues works on both", check_imgbus_queues_cli)
    finally:
        imgbus.cleanup()
        rabbit.stop()
    checks.finish()


if __name__ == "__main__":
    main()
