// SPDX-License-Identifier: MIT
// Sorts libjpeg's warnings into harmless ones and damage.
//
// TurboJPEG 2.1 reports a warning as TJERR_WARNING from tjGetErrorCode() and keeps one message
// for tjGetErrorStr2(). With TJFLAG_STOPONWARNING, decoding stops at the first warning. Without
// it, decoding runs to the end, but libjpeg formats only the first warning's text (jerror.c
// prints a warning only while num_warnings is 0), so a harmless first warning hides any later
// damage. TurboJPEG exposes neither the message code nor the warning count. So when TurboJPEG
// stops on a warning, this audit reads the whole file again with libjpeg's own API, whose error
// manager sees the code of every warning.
#include <csetjmp>
#include <string>

// jpeglib.h needs FILE and size_t declared first, and jerror.h needs jpeglib.h.
// clang-format off
#include <cstdio>
#include <jpeglib.h>
#include <jerror.h>
// clang-format on

#include "codec_detail.hpp"

namespace imgbus::imaging::detail {
namespace {

constexpr int kMaxScans = 500;  // as TJFLAG_LIMITSCANS

struct AuditErrorManager {
    jpeg_error_mgr pub;
    std::jmp_buf jump;
    int harmful_code = 0;  // the first warning that means damage, 0 for none
    char message[JMSG_LENGTH_MAX];
    bool too_many_scans = false;
};

// Warnings about the headers and about junk between segments leave every pixel intact.
bool is_harmless(int code) {
    return code == JWRN_EXTRANEOUS_DATA || code == JWRN_JFIF_MAJOR || code == JWRN_ADOBE_XFORM ||
           code == JWRN_BOGUS_ICC;
}

void on_error(j_common_ptr cinfo) {
    auto* manager = reinterpret_cast<AuditErrorManager*>(cinfo->err);
    (*cinfo->err->format_message)(cinfo, manager->message);
    std::longjmp(manager->jump, 1);
}

void on_message(j_common_ptr cinfo, int level) {
    auto* manager = reinterpret_cast<AuditErrorManager*>(cinfo->err);
    if (level >= 0 || manager->harmful_code != 0 || is_harmless(cinfo->err->msg_code)) {
        return;
    }
    manager->harmful_code = cinfo->err->msg_code;
    (*cinfo->err->format_message)(cinfo, manager->message);
}

void on_progress(j_common_ptr cinfo) {
    auto* decompress = reinterpret_cast<j_decompress_ptr>(cinfo);
    if (decompress->input_scan_number > kMaxScans) {
        auto* manager = reinterpret_cast<AuditErrorManager*>(cinfo->err);
        manager->too_many_scans = true;
        std::longjmp(manager->jump, 1);
    }
}

// Reads every coefficient (entropy decoding, no IDCT or colour conversion) up to EOI. Returns
// false on a fatal libjpeg error. Only trivially destructible objects live in this frame, so the
// longjmp skips no destructor.
bool read_all_coefficients(Bytes bytes, AuditErrorManager& manager) {
    jpeg_decompress_struct cinfo;
    jpeg_progress_mgr progress;
    cinfo.err = jpeg_std_error(&manager.pub);
    manager.pub.error_exit = on_error;
    manager.pub.emit_message = on_message;
    progress.progress_monitor = on_progress;
    if (setjmp(manager.jump) != 0) {
        jpeg_destroy_decompress(&cinfo);
        return false;
    }
    jpeg_create_decompress(&cinfo);
    cinfo.progress = &progress;
    jpeg_mem_src(&cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
    jpeg_read_header(&cinfo, TRUE);
    jpeg_read_coefficients(&cinfo);
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return true;
}

}  // namespace

Result<void> audit_jpeg_warnings(Bytes bytes) {
    AuditErrorManager manager{};
    const bool read = read_all_coefficients(bytes, manager);
    if (manager.too_many_scans) {
        return make_error(Errc::corrupt,
                          "progressive JPEG has more than " + std::to_string(kMaxScans) + " scans");
    }
    if (!read) {
        return make_error(Errc::corrupt, std::string("JPEG is corrupt: ") + manager.message);
    }
    if (manager.harmful_code == JWRN_JPEG_EOF) {
        return make_error(Errc::truncated, std::string("JPEG data ends early (") + manager.message +
                                               "); the file is truncated, send the complete file");
    }
    if (manager.harmful_code != 0) {
        return make_error(Errc::corrupt, std::string("JPEG scan data is damaged, so some rows "
                                                     "cannot be decoded: ") +
                                             manager.message);
    }
    return {};
}

}  // namespace imgbus::imaging::detail
