// SPDX-License-Identifier: MIT
#include <algorithm>
#include <string_view>

#include "imgbus/store/object_store.hpp"
#include "text.hpp"

namespace imgbus::store {

namespace {

// S3's limit on the UTF-8 bytes of an object key.
constexpr std::size_t kMaxKeyBytes = 1024;

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_lower_or_digit(char c) { return (c >= 'a' && c <= 'z') || is_digit(c); }

// Four dot-separated groups of 1 to 3 digits, such as 192.168.0.1.
bool looks_like_ipv4(std::string_view name) {
    int groups = 0;
    std::size_t start = 0;
    while (start <= name.size()) {
        std::size_t end = std::min(name.find('.', start), name.size());
        std::string_view group = name.substr(start, end - start);
        if (group.empty() || group.size() > 3 ||
            !std::all_of(group.begin(), group.end(), is_digit)) {
            return false;
        }
        ++groups;
        start = end + 1;
    }
    return groups == 4;
}

Error bucket_error(const std::string& bucket, const std::string& reason) {
    return make_error(Errc::invalid_bucket_name,
                      "invalid bucket name " + quote_for_message(bucket) + ": " + reason +
                          "; use 3 to 63 lowercase letters, digits, '.' and '-', starting and "
                          "ending with a letter or digit");
}

Error key_error(const std::string& reason) {
    return make_error(Errc::invalid_key, "invalid object key: " + reason);
}

Result<void> check_key_segments(const std::string& key) {
    std::size_t start = 0;
    while (start <= key.size()) {
        std::size_t end = std::min(key.find('/', start), key.size());
        std::string_view segment(key.data() + start, end - start);
        if (segment == "." || segment == "..") {
            return key_error(quote_for_message(key) + " contains a '" + std::string(segment) +
                             "' path segment; remove it or use another name");
        }
        start = end + 1;
    }
    return {};
}

}  // namespace

Result<void> validate_key(const std::string& key) {
    if (key.empty()) {
        return key_error("the key is empty; give a key of 1 to 1024 bytes");
    }
    if (key.size() > kMaxKeyBytes) {
        return key_error("the key has " + std::to_string(key.size()) +
                         " bytes; the maximum is 1024");
    }
    if (auto nul = key.find('\0'); nul != std::string::npos) {
        return key_error("the key contains a NUL byte at offset " + std::to_string(nul));
    }
    if (auto bad = find_invalid_utf8(key)) {
        return key_error("the key is not valid UTF-8 at byte offset " + std::to_string(*bad));
    }
    if (key.front() == '/') {
        return key_error(quote_for_message(key) + " starts with '/'; remove the leading slash");
    }
    return check_key_segments(key);
}

Result<void> validate_bucket_name(const std::string& bucket) {
    if (bucket.size() < 3 || bucket.size() > 63) {
        return bucket_error(bucket, "it has " + std::to_string(bucket.size()) + " characters");
    }
    for (char c : bucket) {
        if (!is_lower_or_digit(c) && c != '.' && c != '-') {
            return bucket_error(bucket, "it contains a character other than a-z, 0-9, '.' or '-'");
        }
    }
    if (!is_lower_or_digit(bucket.front()) || !is_lower_or_digit(bucket.back())) {
        return bucket_error(bucket, "it must start and end with a letter or digit");
    }
    if (bucket.find("..") != std::string::npos) {
        return bucket_error(bucket, "it contains \"..\"");
    }
    if (looks_like_ipv4(bucket)) {
        return bucket_error(bucket, "it is formatted as an IP address");
    }
    if (bucket.starts_with("xn--") || bucket.starts_with("sthree-") ||
        bucket.ends_with("-s3alias") || bucket.ends_with("--ol-s3")) {
        return bucket_error(bucket, "it uses a prefix or suffix that S3 reserves");
    }
    return {};
}

}  // namespace imgbus::store
