// SPDX-License-Identifier: MIT
// Sorts libjpeg's warnings into harmless ones and damage.
//
// TurboJPEG 2.1 reports a warning as TJERR_WARNING from tjGetErrorCode() and keeps one message
// for tjGetErrorStr2(). With TJFLAG_STOPONWARNING, decoding stops at the first warning. Without
// it, decoding runs to the end, but libjpeg formats only the first warning's text (jerror.c
// prints a warning only while num_warnings is 0), so a harmless first warning hides any later
// damage. TurboJPEG exposes neither the message code nor the warning count. So when TurboJPEG
// stops on a warning, this audit reads the whole file again with libjpeg's own API, whose error
// manager sees the code of every warning. The streaming codec uses the same error manager.
#include <string>

#include "codec_detail.hpp"
#include "libjpeg_errors.hpp"

namespace imgbus::imaging::detail {
namespace {

// Warnings about the headers and about junk between segments leave every pixel intact.
bool is_harmless(int code) {
    return code == JWRN_EXTRANEOUS_DATA || code == JWRN_JFIF_MAJOR || code == JWRN_ADOBE_XFORM ||
           code == JWRN_BOGUS_ICC;
}

void on_error(j_common_ptr cinfo) {
    auto* manager = reinterpret_cast<JpegErrorManager*>(cinfo->err);
    (*cinfo->err->format_message)(cinfo, manager->message);
    std::longjmp(manager->jump, 1);
}

void on_message(j_common_ptr cinfo, int level) {
    auto* manager = reinterpret_cast<JpegErrorManager*>(cinfo->err);
    if (level >= 0 || manager->harmful_code != 0 || is_harmless(cinfo->err->msg_code)) {
        return;
    }
    manager->harmful_code = cinfo->err->msg_code;
    (*cinfo->err->format_message)(cinfo, manager->message);
}

void on_progress(j_common_ptr cinfo) {
    auto* decompress = reinterpret_cast<j_decompress_ptr>(cinfo);
    if (decompress->input_scan_number > kMaxJpegScans) {
        auto* manager = reinterpret_cast<JpegErrorManager*>(cinfo->err);
        manager->too_many_scans = true;
        std::longjmp(manager->jump, 1);
    }
}

// Reads every coefficient (entropy decoding, no IDCT or colour conversion) up to EOI. Returns
// false on a fatal libjpeg error. Only trivially destructible objects live in this frame, so the
// longjmp skips no destructor.
bool read_all_coefficients(Bytes bytes, JpegErrorManager& manager) {
    jpeg_decompress_struct cinfo;
    install_error_manager(reinterpret_cast<j_common_ptr>(&cinfo), manager);
    if (setjmp(manager.jump) != 0) {
        jpeg_destroy_decompress(&cinfo);
        return false;
    }
    jpeg_create_decompress(&cinfo);
    install_scan_limit(&cinfo, manager);
    jpeg_mem_src(&cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
    jpeg_read_header(&cinfo, TRUE);
    jpeg_read_coefficients(&cinfo);
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return true;
}

}  // namespace

void install_error_manager(j_common_ptr cinfo, JpegErrorManager& manager) {
    cinfo->err = jpeg_std_error(&manager.pub);
    manager.pub.error_exit = on_error;
    manager.pub.emit_message = on_message;
}

void install_scan_limit(j_decompress_ptr cinfo, JpegErrorManager& manager) {
    manager.progress.progress_monitor = on_progress;
    cinfo->progress = &manager.progress;
}

Result<void> jpeg_verdict(const JpegErrorManager& manager, bool completed) {
    if (manager.too_many_scans) {
        return make_error(Errc::corrupt, "progressive JPEG has more than " +
                                             std::to_string(kMaxJpegScans) + " scans");
    }
    if (!completed) {
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

Result<void> audit_jpeg_warnings(Bytes bytes) {
    JpegErrorManager manager{};
    const bool read = read_all_coefficients(bytes, manager);
    return jpeg_verdict(manager, read);
}

}  // namespace imgbus::imaging::detail
