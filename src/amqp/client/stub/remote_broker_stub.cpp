// SPDX-License-Identifier: MIT
// Built in place of the rabbitmq-c client when librabbitmq-dev was not found, so that callers
// need no #ifdef: opening a remote broker fails with a message that names the fix.
#include "imgbus/amqp/client.hpp"

namespace imgbus::amqp {

Result<std::unique_ptr<RemoteBroker>> open_remote_broker(BrokerUrl url, ClientOptions) {
    return broker::make_error(broker::Errc::not_supported,
                              "this imgbus was built without AMQP client support, so it cannot "
                              "reach " +
                                  redacted_url(url) + "; install librabbitmq-dev and build again");
}

}  // namespace imgbus::amqp
