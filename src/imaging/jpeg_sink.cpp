// SPDX-License-Identifier: MIT
#include "jpeg_sink.hpp"

namespace imgbus::imaging::detail {
namespace {

JpegSinkDestination& destination_of(j_compress_ptr cinfo) {
    return *reinterpret_cast<JpegSinkDestination*>(cinfo->dest);
}

void reset_buffer(JpegSinkDestination& destination) {
    destination.pub.next_output_byte = destination.buffer.get();
    destination.pub.free_in_buffer = kJpegSinkBufferBytes;
}

// Writes the first `size` bytes of the buffer to the sink. On failure keeps the sink's error
// and raises JERR_FILE_WRITE, which does not return. The Result is destroyed before the raise,
// so the jump skips no destructor.
void flush(j_compress_ptr cinfo, std::size_t size) {
    auto& destination = destination_of(cinfo);
    bool written = true;
    {
        auto result = destination.sink->write({destination.buffer.get(), size});
        if (!result) {
            destination.error = result.error();
            written = false;
        }
    }
    if (!written) {
        ERREXIT(cinfo, JERR_FILE_WRITE);
    }
}

void on_init(j_compress_ptr cinfo) { reset_buffer(destination_of(cinfo)); }

// libjpeg calls this when the whole buffer is full, whatever the value of free_in_buffer.
boolean on_buffer_full(j_compress_ptr cinfo) {
    flush(cinfo, kJpegSinkBufferBytes);
    reset_buffer(destination_of(cinfo));
    return TRUE;
}

void on_term(j_compress_ptr cinfo) {
    const auto& destination = destination_of(cinfo);
    const std::size_t used = kJpegSinkBufferBytes - destination.pub.free_in_buffer;
    if (used > 0) {
        flush(cinfo, used);
    }
}

}  // namespace

void install_sink_destination(j_compress_ptr cinfo, JpegSinkDestination& destination,
                              ByteSink& sink) {
    destination.sink = &sink;
    if (!destination.buffer) {
        destination.buffer = std::make_unique_for_overwrite<std::uint8_t[]>(kJpegSinkBufferBytes);
    }
    destination.error.reset();
    destination.pub.init_destination = on_init;
    destination.pub.empty_output_buffer = on_buffer_full;
    destination.pub.term_destination = on_term;
    cinfo->dest = &destination.pub;
}

}  // namespace imgbus::imaging::detail
