// SPDX-License-Identifier: MIT
#include "rabbitmq_library.hpp"

#include "imgbus/dynload/shared_library.hpp"

namespace imgbus::amqp::client {
namespace {

// The connection, socket and frame calls.
void bind_connection_calls(dynload::SymbolBinder& bind, RabbitmqLibrary& table) {
    bind("amqp_cstring_bytes", table.cstring_bytes);
    bind("amqp_error_string2", table.error_string2);
    bind("amqp_new_connection", table.new_connection);
    bind("amqp_tcp_socket_new", table.tcp_socket_new);
    bind("amqp_socket_open_noblock", table.socket_open_noblock);
    bind("amqp_set_handshake_timeout", table.set_handshake_timeout);
    bind("amqp_set_rpc_timeout", table.set_rpc_timeout);
    bind("amqp_login_with_properties", table.login_with_properties);
    bind("amqp_get_sockfd", table.get_sockfd);
    bind("amqp_frames_enqueued", table.frames_enqueued);
    bind("amqp_data_in_buffer", table.data_in_buffer);
    bind("amqp_maybe_release_buffers", table.maybe_release_buffers);
    bind("amqp_simple_wait_frame_noblock", table.simple_wait_frame_noblock);
    bind("amqp_read_message", table.read_message);
    bind("amqp_destroy_message", table.destroy_message);
    bind("amqp_send_method", table.send_method);
    bind("amqp_get_rpc_reply", table.get_rpc_reply);
    bind("amqp_connection_close", table.connection_close);
    bind("amqp_destroy_connection", table.destroy_connection);
}

// The AMQP methods on channels, queues and deliveries.
void bind_method_calls(dynload::SymbolBinder& bind, RabbitmqLibrary& table) {
    bind("amqp_channel_open", table.channel_open);
    bind("amqp_channel_close", table.channel_close);
    bind("amqp_confirm_select", table.confirm_select);
    bind("amqp_queue_declare", table.queue_declare);
    bind("amqp_queue_delete", table.queue_delete);
    bind("amqp_queue_purge", table.queue_purge);
    bind("amqp_basic_qos", table.basic_qos);
    bind("amqp_basic_consume", table.basic_consume);
    bind("amqp_basic_publish", table.basic_publish);
    bind("amqp_basic_ack", table.basic_ack);
    bind("amqp_basic_nack", table.basic_nack);
    bind("amqp_basic_reject", table.basic_reject);
}

void bind_all(dynload::SymbolBinder& bind, RabbitmqLibrary& table) {
    bind_connection_calls(bind, table);
    bind_method_calls(bind, table);
}

}  // namespace

Result<const RabbitmqLibrary*> load_rabbitmq() {
    return dynload::load_table<RabbitmqLibrary>(
        {"librabbitmq.so.4", "librabbitmq4", "the remote broker client"}, bind_all);
}

}  // namespace imgbus::amqp::client
