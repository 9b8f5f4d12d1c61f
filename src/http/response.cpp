// SPDX-License-Identifier: MIT
#include "response.hpp"

#include <boost/beast/http/field.hpp>

namespace imgbus::http {

std::string dump_json(const nlohmann::json& value) {
    return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Response make_response(Status status, std::string body, std::string_view content_type) {
    Response response{status, 11};
    response.set(boost::beast::http::field::content_type, content_type);
    response.body() = std::move(body);
    response.prepare_payload();
    return response;
}

Response json_response(Status status, const nlohmann::json& value) {
    return make_response(status, dump_json(value), "application/json");
}

Response error_response(Status status, std::string_view code, std::string_view message) {
    return json_response(status, {{"error", code}, {"message", message}});
}

Response unavailable_response(std::string_view code, std::string_view message, int retry_after_s) {
    auto response = error_response(Status::service_unavailable, code, message);
    response.set(boost::beast::http::field::retry_after, std::to_string(retry_after_s));
    return response;
}

}  // namespace imgbus::http
