// SPDX-License-Identifier: MIT
// A small librabbitmq (rabbitmq-c) client for the end-to-end tests: declares a queue, publishes
// N messages with confirms, consumes them with an empty consumer tag (the server makes one up),
// acks them and checks every body. Usage: rabbitmq_c_client PORT USER PASSWORD QUEUE COUNT.
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_reply(amqp_rpc_reply_t reply, const char* step) {
    if (reply.reply_type == AMQP_RESPONSE_NORMAL) {
        return 1;
    }
    fprintf(stderr, "%s failed: reply type %d\n", step, (int)reply.reply_type);
    return 0;
}

static int publish_all(amqp_connection_state_t conn, const char* queue, int count) {
    amqp_confirm_select(conn, 1);
    if (!check_reply(amqp_get_rpc_reply(conn), "confirm.select")) return 0;
    for (int i = 0; i < count; ++i) {
        char body[32];
        snprintf(body, sizeof body, "message-%d", i);
        amqp_basic_properties_t props;
        props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_CORRELATION_ID_FLAG;
        props.delivery_mode = 2;
        props.correlation_id = amqp_cstring_bytes(body);
        if (amqp_basic_publish(conn, 1, amqp_empty_bytes, amqp_cstring_bytes(queue), 0, 0, &props,
                               amqp_cstring_bytes(body)) != AMQP_STATUS_OK) {
            fprintf(stderr, "publish %d failed\n", i);
            return 0;
        }
    }
    for (int acked = 0; acked < count;) {
        amqp_frame_t frame;
        if (amqp_simple_wait_frame(conn, &frame) != AMQP_STATUS_OK) return 0;
        if (frame.frame_type != AMQP_FRAME_METHOD || frame.payload.method.id != AMQP_BASIC_ACK_METHOD) {
            fprintf(stderr, "expected basic.ack, got method 0x%08x\n", frame.payload.method.id);
            return 0;
        }
        amqp_basic_ack_t* ack = frame.payload.method.decoded;
        acked = ack->multiple ? (int)ack->delivery_tag : acked + 1;
    }
    return 1;
}

static int consume_all(amqp_connection_state_t conn, const char* queue, int count) {
    amqp_basic_qos(conn, 1, 0, 10, 0);
    if (!check_reply(amqp_get_rpc_reply(conn), "basic.qos")) return 0;
    amqp_basic_consume_ok_t* ok = amqp_basic_consume(conn, 1, amqp_cstring_bytes(queue),
                                                     amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
    if (!check_reply(amqp_get_rpc_reply(conn), "basic.consume")) return 0;
    if (ok->consumer_tag.len == 0) {
        fprintf(stderr, "the server returned an empty consumer tag\n");
        return 0;
    }
    for (int i = 0; i < count; ++i) {
        amqp_envelope_t envelope;
        amqp_maybe_release_buffers(conn);
        struct timeval timeout = {5, 0};
        if (!check_reply(amqp_consume_message(conn, &envelope, &timeout, 0), "consume")) return 0;
        char expected[32];
        snprintf(expected, sizeof expected, "message-%d", i);
        if (envelope.message.body.len != strlen(expected) ||
            memcmp(envelope.message.body.bytes, expected, strlen(expected)) != 0) {
            fprintf(stderr, "message %d: unexpected body\n", i);
            return 0;
        }
        amqp_basic_ack(conn, 1, envelope.delivery_tag, 0);
        amqp_destroy_envelope(&envelope);
    }
    return 1;
}

int main(int argc, char** argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: %s PORT USER PASSWORD QUEUE COUNT\n", argv[0]);
        return 2;
    }
    const char* queue = argv[4];
    const int count = atoi(argv[5]);
    amqp_connection_state_t conn = amqp_new_connection();
    amqp_socket_t* socket = amqp_tcp_socket_new(conn);
    if (amqp_socket_open(socket, "127.0.0.1", atoi(argv[1])) != AMQP_STATUS_OK) {
        fprintf(stderr, "cannot connect to 127.0.0.1:%s\n", argv[1]);
        return 1;
    }
    if (!check_reply(amqp_login(conn, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, argv[2], argv[3]),
                     "login")) return 1;
    amqp_channel_open(conn, 1);
    if (!check_reply(amqp_get_rpc_reply(conn), "channel.open")) return 1;
    amqp_queue_declare(conn, 1, amqp_cstring_bytes(queue), 0, 1, 0, 0, amqp_empty_table);
    if (!check_reply(amqp_get_rpc_reply(conn), "queue.declare")) return 1;
    if (!publish_all(conn, queue, count) || !consume_all(conn, queue, count)) return 1;
    amqp_channel_close(conn, 1, AMQP_REPLY_SUCCESS);
    amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(conn);
    printf("rabbitmq-c: %d messages published with confirms, consumed and acked\n", count);
    return 0;
}
