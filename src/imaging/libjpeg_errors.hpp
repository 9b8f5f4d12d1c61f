// SPDX-License-Identifier: MIT
#pragma once

#include <csetjmp>

// jpeglib.h needs FILE and size_t declared first, and jerror.h needs jpeglib.h.
// clang-format off
#include <cstdio>
#include <jpeglib.h>
#include <jerror.h>
// clang-format on

#include "imgbus/imaging/error.hpp"

// An error manager for libjpeg's own API, shared by the warning audit and the streaming codec.
// libjpeg reports a fatal error by calling error_exit, which must not return; here it jumps
// back to the setjmp of the function that drives libjpeg. Functions that call setjmp keep only
// trivially destructible objects alive between setjmp and the libjpeg calls, so the jump skips
// no destructor.
namespace imgbus::imaging::detail {

// A progressive JPEG with thousands of scans costs minutes of CPU; stop after this many, as
// TurboJPEG's TJFLAG_LIMITSCANS does.
inline constexpr int kMaxJpegScans = 500;

struct JpegErrorManager {
    jpeg_error_mgr pub;
    std::jmp_buf jump;
    int harmful_code = 0;  // the first warning that means damage, 0 for none
    char message[JMSG_LENGTH_MAX] = {};
    bool too_many_scans = false;
    jpeg_progress_mgr progress;
};

// Sets cinfo->err to the manager; call before jpeg_create_*.
void install_error_manager(j_common_ptr cinfo, JpegErrorManager& manager);

// Stops a decoder after kMaxJpegScans scans; call after jpeg_create_decompress.
void install_scan_limit(j_decompress_ptr cinfo, JpegErrorManager& manager);

// The verdict on a decode that `completed` (false when error_exit jumped): ok, truncated for a
// premature end of data, corrupt for a fatal error, too many scans or damaged scan data. Junk
// bytes before a marker and header warnings pass.
Result<void> jpeg_verdict(const JpegErrorManager& manager, bool completed);

}  // namespace imgbus::imaging::detail
