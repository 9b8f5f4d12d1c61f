// SPDX-License-Identifier: MIT
#pragma once
// rabbitmq-c, loaded with dlopen when a remote broker is opened instead of at program start.
// librabbitmq.so.4 pulls in libssl and libcrypto, and only `--broker amqp://...` and
// `imgbus worker` talk to a remote broker.
#include <amqp.h>
#include <amqp_tcp_socket.h>

#include "imgbus/result.hpp"

namespace imgbus::amqp::client {

// The rabbitmq-c functions that the remote broker client calls, named without the amqp_ prefix.
struct RabbitmqLibrary {
    decltype(&::amqp_basic_ack) basic_ack = nullptr;
    decltype(&::amqp_basic_consume) basic_consume = nullptr;
    decltype(&::amqp_basic_nack) basic_nack = nullptr;
    decltype(&::amqp_basic_publish) basic_publish = nullptr;
    decltype(&::amqp_basic_qos) basic_qos = nullptr;
    decltype(&::amqp_basic_reject) basic_reject = nullptr;
    decltype(&::amqp_channel_close) channel_close = nullptr;
    decltype(&::amqp_channel_open) channel_open = nullptr;
    decltype(&::amqp_confirm_select) confirm_select = nullptr;
    decltype(&::amqp_connection_close) connection_close = nullptr;
    decltype(&::amqp_cstring_bytes) cstring_bytes = nullptr;
    decltype(&::amqp_data_in_buffer) data_in_buffer = nullptr;
    decltype(&::amqp_destroy_connection) destroy_connection = nullptr;
    decltype(&::amqp_destroy_message) destroy_message = nullptr;
    decltype(&::amqp_error_string2) error_string2 = nullptr;
    decltype(&::amqp_frames_enqueued) frames_enqueued = nullptr;
    decltype(&::amqp_get_rpc_reply) get_rpc_reply = nullptr;
    decltype(&::amqp_get_sockfd) get_sockfd = nullptr;
    decltype(&::amqp_login_with_properties) login_with_properties = nullptr;
    decltype(&::amqp_maybe_release_buffers) maybe_release_buffers = nullptr;
    decltype(&::amqp_new_connection) new_connection = nullptr;
    decltype(&::amqp_queue_declare) queue_declare = nullptr;
    decltype(&::amqp_queue_delete) queue_delete = nullptr;
    decltype(&::amqp_queue_purge) queue_purge = nullptr;
    decltype(&::amqp_read_message) read_message = nullptr;
    decltype(&::amqp_send_method) send_method = nullptr;
    decltype(&::amqp_set_handshake_timeout) set_handshake_timeout = nullptr;
    decltype(&::amqp_set_rpc_timeout) set_rpc_timeout = nullptr;
    decltype(&::amqp_simple_wait_frame_noblock) simple_wait_frame_noblock = nullptr;
    decltype(&::amqp_socket_open_noblock) socket_open_noblock = nullptr;
    decltype(&::amqp_tcp_socket_new) tcp_socket_new = nullptr;
};

// Loads librabbitmq.so.4 once per process; later calls return the same table. Fails with a
// message that names the library and the Debian package to install.
Result<const RabbitmqLibrary*> load_rabbitmq();

}  // namespace imgbus::amqp::client
