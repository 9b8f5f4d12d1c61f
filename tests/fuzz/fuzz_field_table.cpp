// SPDX-License-Identifier: MIT
// Feeds arbitrary bytes to the AMQP field-table decoder (headers, queue arguments, client
// properties) and checks that a table that decodes encodes to bytes that decode to the same
// encoding again.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "imgbus/broker/field_table.hpp"

namespace {

using imgbus::broker::decode_field_table;
using imgbus::broker::encode_field_table;

// Encodes the decoded table; aborts if the encoding does not decode, whole, to itself. Bytes are
// compared rather than tables because a NaN float is not equal to itself.
void check_round_trip(const imgbus::broker::FieldTable& table) {
    std::string encoded;
    encode_field_table(table, encoded);
    std::size_t offset = 0;
    auto again = decode_field_table(encoded, offset);
    if (!again.ok() || offset != encoded.size()) {
        std::abort();
    }
    std::string encoded_again;
    encode_field_table(*again, encoded_again);
    if (encoded_again != encoded) {
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    std::size_t offset = 0;
    auto table = decode_field_table(input, offset);
    if (table.ok()) {
        if (offset > input.size()) {
            std::abort();  // the decoder claimed more bytes than it was given
        }
        check_round_trip(*table);
    }
    return 0;
}
