// SPDX-License-Identifier: MIT
// Measures an AMQP 0-9-1 broker from outside, over the wire, with rabbitmq-c (librabbitmq).
// Works against any broker URL, so the same run can measure `imgbus serve` and RabbitMQ.
//
//   imgbus_amqp_client_bench amqp://user:pass@127.0.0.1:5672/%2F [messages] [seconds per phase]
//
// Phases, each bounded by the message count and by the time limit, with 1 KiB bodies:
//   publish        transient publishes to a non-durable queue, no confirms
//   consume_p100   consume the published messages with manual acks at prefetch 100
//   consume_p1     the same at prefetch 1 (a fifth of the messages)
//   latency        one message in flight: publish, then wait for its delivery on a second
//                  connection; the body carries the send time
//   persistent     delivery_mode 2 to a durable queue with publisher confirms, 100 in flight
// Output is one "name value" line per figure, for bench/amqp_compare.sh to tabulate.
#include <amqp.h>
#include <amqp_tcp_socket.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { BODY_BYTES = 1024, CONFIRM_WINDOW = 100 };

static const char* QUEUE_TRANSIENT = "imgbus.bench.transient";
static const char* QUEUE_LATENCY = "imgbus.bench.latency";
static const char* QUEUE_DURABLE = "imgbus.bench.durable";

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t now_nanoseconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void fail(const char* operation, const char* detail) {
    fprintf(stderr, "amqp bench: %s failed: %s\n", operation, detail);
    exit(1);
}

static void check_reply(amqp_rpc_reply_t reply, const char* operation) {
    switch (reply.reply_type) {
    case AMQP_RESPONSE_NORMAL:
        return;
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
        fail(operation, amqp_error_string2(reply.library_error));
        return;
    case AMQP_RESPONSE_SERVER_EXCEPTION:
        if (reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
            const amqp_channel_close_t* close = reply.reply.decoded;
            fprintf(stderr, "amqp bench: %s failed: channel closed with %u %.*s\n", operation,
                    close->reply_code, (int)close->reply_text.len,
                    (const char*)close->reply_text.bytes);
        } else if (reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
            const amqp_connection_close_t* close = reply.reply.decoded;
            fprintf(stderr, "amqp bench: %s failed: connection closed with %u %.*s\n", operation,
                    close->reply_code, (int)close->reply_text.len,
                    (const char*)close->reply_text.bytes);
        } else {
            fprintf(stderr, "amqp bench: %s failed: server method 0x%08x\n", operation,
                    reply.reply.id);
        }
        exit(1);
    default:
        fail(operation, "missing RPC reply");
    }
}

static void check_status(int status, const char* operation) {
    if (status < 0) fail(operation, amqp_error_string2(status));
}

static amqp_connection_state_t open_connection(const struct amqp_connection_info* info) {
    amqp_connection_state_t conn = amqp_new_connection();
    amqp_socket_t* socket = amqp_tcp_socket_new(conn);
    if (socket == NULL) fail("socket", "amqp_tcp_socket_new returned NULL");
    struct timeval timeout = {10, 0};
    check_status(amqp_socket_open_noblock(socket, info->host, info->port, &timeout), "connect");
    check_reply(amqp_login(conn, info->vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, info->user,
                           info->password),
                "login");
    amqp_channel_open(conn, 1);
    check_reply(amqp_get_rpc_reply(conn), "channel.open");
    return conn;
}

static void close_connection(amqp_connection_state_t conn) {
    amqp_channel_close(conn, 1, AMQP_REPLY_SUCCESS);
    amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(conn);
}

// Declares a queue with x-max-length above the message count, because imgbus caps a queue at
// 10,000 messages by default and rejects publishes beyond that. Each phase deletes its queue
// when done, so a fresh broker never contains one from an earlier phase.
static void declare_queue(amqp_connection_state_t conn, const char* name, int durable,
                          long max_length) {
    amqp_table_entry_t entry;
    entry.key = amqp_cstring_bytes("x-max-length");
    entry.value.kind = AMQP_FIELD_KIND_I64;
    entry.value.value.i64 = max_length;
    amqp_table_t arguments = {1, &entry};
    amqp_queue_declare(conn, 1, amqp_cstring_bytes(name), 0, durable, 0, 0, arguments);
    check_reply(amqp_get_rpc_reply(conn), "queue.declare");
}

static void delete_queue(amqp_connection_state_t conn, const char* name) {
    amqp_queue_delete(conn, 1, amqp_cstring_bytes(name), 0, 0);
    check_reply(amqp_get_rpc_reply(conn), "queue.delete");
}

static void publish(amqp_connection_state_t conn, const char* queue, char* body, int persistent) {
    uint64_t sent = now_nanoseconds();
    memcpy(body, &sent, sizeof sent);
    amqp_basic_properties_t props;
    props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
    props.delivery_mode = persistent ? 2 : 1;
    amqp_bytes_t bytes = {BODY_BYTES, body};
    check_status(amqp_basic_publish(conn, 1, amqp_empty_bytes, amqp_cstring_bytes(queue), 0, 0,
                                    &props, bytes),
                 "basic.publish");
}

static long publish_phase(amqp_connection_state_t conn, const char* queue, long count,
                          double seconds, char* body, double* elapsed) {
    double start = now_seconds();
    long sent = 0;
    while (sent < count) {
        publish(conn, queue, body, 0);
        ++sent;
        if ((sent & 1023) == 0 && now_seconds() - start > seconds) break;
    }
    // A round trip, so that the broker has taken every publish before the clock stops.
    amqp_queue_declare(conn, 1, amqp_cstring_bytes(queue), 1, 0, 0, 0, amqp_empty_table);
    check_reply(amqp_get_rpc_reply(conn), "queue.declare passive");
    *elapsed = now_seconds() - start;
    return sent;
}

static long consume_phase(amqp_connection_state_t conn, const char* queue, long count,
                          uint16_t prefetch, double seconds, double* elapsed) {
    amqp_basic_qos(conn, 1, 0, prefetch, 0);
    check_reply(amqp_get_rpc_reply(conn), "basic.qos");
    amqp_basic_consume_ok_t* ok = amqp_basic_consume(conn, 1, amqp_cstring_bytes(queue),
                                                     amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
    check_reply(amqp_get_rpc_reply(conn), "basic.consume");
    amqp_bytes_t tag = amqp_bytes_malloc_dup(ok->consumer_tag);
    double start = now_seconds();
    long received = 0;
    while (received < count && now_seconds() - start < seconds) {
        amqp_envelope_t envelope;
        struct timeval timeout = {5, 0};
        amqp_maybe_release_buffers(conn);
        amqp_rpc_reply_t reply = amqp_consume_message(conn, &envelope, &timeout, 0);
        if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
            reply.library_error == AMQP_STATUS_TIMEOUT) {
            fprintf(stderr, "amqp bench: consume timed out after %ld messages\n", received);
            break;
        }
        check_reply(reply, "consume");
        check_status(amqp_basic_ack(conn, 1, envelope.delivery_tag, 0), "basic.ack");
        amqp_destroy_envelope(&envelope);
        ++received;
    }
    *elapsed = now_seconds() - start;
    amqp_basic_cancel(conn, 1, tag);
    check_reply(amqp_get_rpc_reply(conn), "basic.cancel");
    amqp_bytes_free(tag);
    return received;
}

static int compare_u64(const void* a, const void* b) {
    uint64_t x = *(const uint64_t*)a, y = *(const uint64_t*)b;
    return (x > y) - (x < y);
}

static long latency_phase(amqp_connection_state_t publisher, amqp_connection_state_t consumer,
                          long count, double seconds, char* body, uint64_t* samples) {
    amqp_basic_qos(consumer, 1, 0, 100, 0);
    check_reply(amqp_get_rpc_reply(consumer), "basic.qos");
    amqp_basic_consume(consumer, 1, amqp_cstring_bytes(QUEUE_LATENCY), amqp_empty_bytes, 0, 0, 0,
                       amqp_empty_table);
    check_reply(amqp_get_rpc_reply(consumer), "basic.consume");
    double start = now_seconds();
    long measured = 0;
    while (measured < count && now_seconds() - start < seconds) {
        publish(publisher, QUEUE_LATENCY, body, 0);
        amqp_envelope_t envelope;
        struct timeval timeout = {5, 0};
        amqp_maybe_release_buffers(consumer);
        amqp_rpc_reply_t reply = amqp_consume_message(consumer, &envelope, &timeout, 0);
        uint64_t arrived = now_nanoseconds();
        check_reply(reply, "latency consume");
        uint64_t sent;
        if (envelope.message.body.len < sizeof sent) fail("latency consume", "short body");
        memcpy(&sent, envelope.message.body.bytes, sizeof sent);
        samples[measured++] = arrived - sent;
        check_status(amqp_basic_ack(consumer, 1, envelope.delivery_tag, 0), "basic.ack");
        amqp_destroy_envelope(&envelope);
    }
    qsort(samples, (size_t)measured, sizeof samples[0], compare_u64);
    return measured;
}

// Waits for confirms until every delivery tag up to `last` is settled; returns the nacks seen.
static long wait_for_confirms(amqp_connection_state_t conn, uint64_t* settled, uint64_t last) {
    long nacks = 0;
    while (*settled < last) {
        amqp_frame_t frame;
        struct timeval timeout = {10, 0};
        int status = amqp_simple_wait_frame_noblock(conn, &frame, &timeout);
        check_status(status, "waiting for confirms");
        if (frame.frame_type != AMQP_FRAME_METHOD) continue;
        amqp_method_number_t id = frame.payload.method.id;
        uint64_t tag = 0;
        int multiple = 0;
        if (id == AMQP_BASIC_ACK_METHOD) {
            const amqp_basic_ack_t* ack = frame.payload.method.decoded;
            tag = ack->delivery_tag;
            multiple = ack->multiple;
        } else if (id == AMQP_BASIC_NACK_METHOD) {
            const amqp_basic_nack_t* nack = frame.payload.method.decoded;
            tag = nack->delivery_tag;
            multiple = nack->multiple;
            nacks += multiple ? (long)(tag - *settled) : 1;
        } else {
            continue;  // a late delivery from an earlier phase on this channel
        }
        // Brokers confirm in publish order, so the highest tag seen settles all before it.
        if (tag > *settled) *settled = tag;
    }
    return nacks;
}

static long persistent_phase(amqp_connection_state_t conn, long count, double seconds,
                             char* body, double* elapsed, long* nacks) {
    amqp_confirm_select(conn, 1);
    check_reply(amqp_get_rpc_reply(conn), "confirm.select");
    double start = now_seconds();
    uint64_t published = 0, settled = 0;
    *nacks = 0;
    while ((long)published < count && now_seconds() - start < seconds) {
        for (int i = 0; i < CONFIRM_WINDOW && (long)published < count; ++i) {
            publish(conn, QUEUE_DURABLE, body, 1);
            ++published;
        }
        *nacks += wait_for_confirms(conn, &settled, published);
    }
    *elapsed = now_seconds() - start;
    return (long)published;
}

int main(int argc, char** argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s AMQP_URL [messages, default 50000] [seconds per phase, "
                        "default 20]\n", argv[0]);
        return 2;
    }
    long count = argc > 2 ? atol(argv[2]) : 50000;
    double seconds = argc > 3 ? atof(argv[3]) : 20.0;
    if (count < 100 || seconds <= 0) {
        fprintf(stderr, "amqp bench: invalid arguments: messages must be at least 100 and "
                        "seconds above 0\n");
        return 2;
    }
    char* url = strdup(argv[1]);
    struct amqp_connection_info info;
    amqp_default_connection_info(&info);
    check_status(amqp_parse_url(url, &info), "parsing the AMQP URL");

    char* body = calloc(1, BODY_BYTES);
    uint64_t* samples = calloc((size_t)count, sizeof(uint64_t));
    if (body == NULL || samples == NULL) fail("allocation", "out of memory");
    memset(body + 8, 'x', BODY_BYTES - 8);

    amqp_connection_state_t conn = open_connection(&info);
    double elapsed = 0;

    declare_queue(conn, QUEUE_TRANSIENT, 0, count + 1000);
    long sent = publish_phase(conn, QUEUE_TRANSIENT, count, seconds, body, &elapsed);
    printf("publish_messages %ld\npublish_per_second %.0f\n", sent, sent / elapsed);
    fflush(stdout);

    long got = consume_phase(conn, QUEUE_TRANSIENT, sent, 100, seconds, &elapsed);
    printf("consume_p100_messages %ld\nconsume_p100_per_second %.0f\n", got, got / elapsed);
    fflush(stdout);

    long small = count / 5;
    delete_queue(conn, QUEUE_TRANSIENT);
    declare_queue(conn, QUEUE_TRANSIENT, 0, count + 1000);
    sent = publish_phase(conn, QUEUE_TRANSIENT, small, seconds, body, &elapsed);
    got = consume_phase(conn, QUEUE_TRANSIENT, sent, 1, seconds, &elapsed);
    printf("consume_p1_messages %ld\nconsume_p1_per_second %.0f\n", got, got / elapsed);
    fflush(stdout);
    delete_queue(conn, QUEUE_TRANSIENT);

    declare_queue(conn, QUEUE_LATENCY, 0, count + 1000);
    amqp_connection_state_t consumer = open_connection(&info);
    long measured = latency_phase(conn, consumer, small, seconds, body, samples);
    if (measured > 0) {
        printf("latency_samples %ld\nlatency_p50_us %.1f\nlatency_p99_us %.1f\n", measured,
               samples[measured / 2] / 1e3, samples[(measured * 99) / 100] / 1e3);
    }
    fflush(stdout);
    close_connection(consumer);
    delete_queue(conn, QUEUE_LATENCY);

    declare_queue(conn, QUEUE_DURABLE, 1, count + 1000);
    long nacks = 0;
    sent = persistent_phase(conn, count, seconds, body, &elapsed, &nacks);
    printf("persistent_messages %ld\npersistent_nacks %ld\npersistent_per_second %.0f\n", sent,
           nacks, sent / elapsed);
    fflush(stdout);
    // A new channel: the confirm-mode channel may still carry confirms the server sends late.
    amqp_channel_close(conn, 1, AMQP_REPLY_SUCCESS);
    amqp_channel_open(conn, 2);
    check_reply(amqp_get_rpc_reply(conn), "channel.open");
    amqp_queue_delete(conn, 2, amqp_cstring_bytes(QUEUE_DURABLE), 0, 0);
    check_reply(amqp_get_rpc_reply(conn), "queue.delete");
    amqp_channel_close(conn, 2, AMQP_REPLY_SUCCESS);
    amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(conn);

    free(samples);
    free(body);
    free(url);
    return 0;
}
