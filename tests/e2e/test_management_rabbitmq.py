# SPDX-License-Identifier: MIT
"""The management API of `imgbus serve` against RabbitMQ's management plugin: every field imgbus
claims has the same name and JSON type in both responses, purge and auth behave alike, and
rabbitmqadmin and `imgbus queues` work against both servers. A pika connection with a confirm
channel and a consumer is open on both while /api/connections, /api/channels and /api/consumers
are compared."""
import re
import time
import urllib.parse

import pika

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

CLIENT_QUEUE = "mgmt-clients"
CLIENT_TAG = "mgmt-consumer"
PREFETCH = 3
CONNECTION_FIELDS = [
    "name", "node", "type", "protocol", "state", "user", "vhost", "host", "port", "peer_host",
    "peer_port", "ssl", "auth_mechanism", "connected_at", "timeout", "frame_max", "channel_max",
    "channels", "client_properties", "client_properties.product",
    "client_properties.capabilities", "client_properties.capabilities.publisher_confirms",
    "recv_oct", "recv_oct_details.rate", "send_oct", "send_oct_details.rate", "recv_cnt",
    "send_cnt"]
CHANNEL_STATS = ["publish", "confirm", "return_unroutable", "drop_unroutable", "deliver",
                 "deliver_no_ack", "get", "get_no_ack", "get_empty", "deliver_get", "ack",
                 "redeliver"]
CHANNEL_FIELDS = (
    ["name", "number", "node", "user", "vhost", "state", "connection_details.name",
     "connection_details.peer_host", "connection_details.peer_port", "consumer_count",
     "messages_unacknowledged", "messages_unconfirmed", "messages_uncommitted",
     "acks_uncommitted", "prefetch_count", "global_prefetch_count", "confirm", "transactional"]
    + [f"message_stats.{key}" for key in CHANNEL_STATS]
    + [f"message_stats.{key}_details.rate" for key in CHANNEL_STATS])
CONSUMER_FIELDS = [
    "consumer_tag", "queue.name", "queue.vhost", "channel_details.name",
    "channel_details.number", "channel_details.connection_name", "channel_details.peer_host",
    "channel_details.peer_port", "channel_details.user", "channel_details.node",
    "ack_required", "prefetch_count", "exclusive", "active", "activity_status", "arguments"]

rabbit = None
imgbus = None
clients = {}  # "rabbit"/"imgbus" -> (pika connection, its local port)
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


def open_client(port, user, password):
    """A pika connection with a confirm channel (prefetch 3), one publish and one consumer
    holding that message unacked."""
    connection = pika.BlockingConnection(pika.ConnectionParameters(
        host="127.0.0.1", port=port, virtual_host="/", heartbeat=30,
        credentials=pika.PlainCredentials(user, password), connection_attempts=1,
        socket_timeout=5))
    channel = connection.channel()
    channel.confirm_delivery()
    channel.basic_qos(prefetch_count=PREFETCH)
    channel.queue_declare(CLIENT_QUEUE)
    channel.basic_publish("", CLIENT_QUEUE, b"held")
    delivered = []
    channel.basic_consume(CLIENT_QUEUE, lambda ch, method, props, body: delivered.append(body),
                          consumer_tag=CLIENT_TAG)
    deadline = time.monotonic() + 10
    while not delivered and time.monotonic() < deadline:
        connection.process_data_events(time_limit=0.1)
    assert delivered == [b"held"], f"the consumer on port {port} got {delivered}"
    local_port = connection._impl._transport._sock.getsockname()[1]
    return connection, local_port


def amqp_port_of(server):
    match = re.search(r"amqp listening on amqp://127\.0\.0\.1:(\d+)", server.log())
    assert match, "imgbus serve did not log its AMQP address:\n" + server.log()
    return int(match.group(1))


def ours(api, path, local_port, key="peer_port"):
    """The item of a list whose peer port (or channel_details.peer_port) is our client's."""
    items = api.get(path)
    for item in items:
        if lookup(item, key) == local_port:
            return item
    raise AssertionError(f"{api.base}{path} lists no item with {key}={local_port}: {items}")


def wait_for_item(api, path, local_port, fields, key="peer_port", timeout=20):
    """RabbitMQ lists a client and its statistics with a delay; polls until all are there."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            item = ours(api, path, local_port, key)
        except AssertionError:
            if time.monotonic() >= deadline:
                raise
            item = None
        if item is not None and all(has_path(item, field) for field in fields):
            return item
        assert time.monotonic() < deadline, f"{path} still lacks fields: {item}"
        time.sleep(0.5)


def compared_item(path, fields, key, what):
    """Our client's item of a list on both servers; checks the fields, returns both items."""
    items = {}
    for name, api in (("rabbit", rabbit_api), ("imgbus", imgbus_api)):
        _, local_port = clients[name]
        items[name] = wait_for_item(api, path, local_port, fields, key=key)
    compare_fields(fields, items["rabbit"], items["imgbus"], what)
    return items["rabbit"], items["imgbus"]


def check_connection_fields():
    _, mine = compared_item("/api/connections", CONNECTION_FIELDS, "peer_port", "connection")
    expected_name = f"127.0.0.1:{clients['imgbus'][1]} -> 127.0.0.1:{imgbus.amqp_port}"
    assert mine["name"] == expected_name, mine
    assert mine["user"] == imgbus.access_key, mine
    assert mine["channels"] == 1, mine
    assert mine["timeout"] == 30, mine
    assert mine["state"] == "running", mine
    assert mine["protocol"] == "AMQP 0-9-1", mine
    assert mine["auth_mechanism"] == "PLAIN", mine
    assert mine["client_properties"]["product"] == "Pika Python Client Library", mine
    assert mine["recv_oct"] > 0, mine
    assert mine["send_oct"] > 0, mine
    quoted = urllib.parse.quote(mine["name"], safe="")
    single = imgbus_api.get(f"/api/connections/{quoted}")
    assert single["name"] == mine["name"], single
    listed = imgbus_api.get(f"/api/connections/{quoted}/channels")
    assert [channel["number"] for channel in listed] == [1], listed


def check_channel_fields():
    _, mine = compared_item("/api/channels", CHANNEL_FIELDS, "connection_details.peer_port",
                            "channel")
    assert mine["name"].endswith(" (1)"), mine
    assert mine["number"] == 1, mine
    assert mine["consumer_count"] == 1, mine
    assert mine["messages_unacknowledged"] == 1, mine
    assert mine["prefetch_count"] == PREFETCH, mine
    assert mine["confirm"] is True, mine
    stats = mine["message_stats"]
    assert stats["publish"] == 1, stats
    assert stats["confirm"] == 1, stats
    assert stats["deliver"] == 1, stats
    single = imgbus_api.get("/api/channels/" + urllib.parse.quote(mine["name"], safe=""))
    assert single["number"] == 1, single


def check_consumer_fields():
    theirs, mine = compared_item("/api/consumers", CONSUMER_FIELDS,
                                 "channel_details.peer_port", "consumer")
    assert mine["consumer_tag"] == CLIENT_TAG, mine
    assert mine["queue"]["name"] == CLIENT_QUEUE, mine
    assert mine["prefetch_count"] == PREFETCH, mine
    assert mine["ack_required"] is True, mine
    # The worker pool consumes inside the process: listed, with an in-process channel.
    consumers = imgbus_api.get("/api/consumers/%2F")
    workers = [c for c in consumers if c["queue"]["name"] == "imgbus.jobs"]
    assert len(workers) == 1, consumers
    details = workers[0]["channel_details"]
    assert details["connection_name"] == "in-process", details
    assert details["name"] == "in-process worker pool", details
    compare_fields(CONSUMER_FIELDS, theirs, workers[0], "in-process consumer")


def check_rabbitmqadmin_clients():
    for port, user, password, name in (
            (rabbit.management_port, "guest", "guest", "rabbit"),
            (imgbus.port, imgbus.access_key, imgbus.secret_key, "imgbus")):
        local = f"127.0.0.1:{clients[name][1]} ->"
        for what, expected in (("connections", local), ("channels", local),
                               ("consumers", CLIENT_TAG)):
            code, out = rabbitmqadmin(port, user, password, "list", what)
            assert code == 0, f"list {what} on {port}: {out}"
            assert expected in out, f"list {what} on {port} lacks {expected!r}: {out}"


def check_admin_status_connections():
    code, out, err = imgbus_cli("admin", "status", "--url", imgbus.url, "--user",
                                imgbus.access_key, "--password", imgbus.secret_key)
    assert code == 0, out + err
    assert f"127.0.0.1:{clients['imgbus'][1]} -> " in out, out
    assert "Pika Python Client Library" in out, out


def check_auth_and_errors():
    for api in (rabbit_api, imgbus_api):
        stranger = Api(api.base, "guest-or-not", "wrong")
        status, _, _ = stranger.call("GET", "/api/connections")
        assert status == 401, f"{api.base} listed connections for a wrong password: {status}"
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
        imgbus.amqp_port = amqp_port_of(imgbus)
        clients["rabbit"] = open_client(rabbit.amqp_port, "guest", "guest")
        clients["imgbus"] = open_client(imgbus.amqp_port, imgbus.access_key, imgbus.secret_key)
        checks.run("connection fields match RabbitMQ's", check_connection_fields)
        checks.run("channel fields match RabbitMQ's", check_channel_fields)
        checks.run("consumer fields match RabbitMQ's", check_consumer_fields)
        checks.run("rabbitmqadmin lists connections, channels, consumers on both",
                   check_rabbitmqadmin_clients)
        checks.run("imgbus admin status lists the AMQP connection", check_admin_status_connections)
        for connection, _ in clients.values():
            connection.close()
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
