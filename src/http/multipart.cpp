// SPDX-License-Identifier: MIT
#include "multipart.hpp"

#include <algorithm>
#include <cctype>
#include <functional>
#include <optional>

namespace imgbus::http {
namespace {

constexpr std::string_view kCrlf = "\r\n";
constexpr std::size_t kMaxBoundaryLength = 70;  // RFC 2046, section 5.1.1

bool is_space(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view text) {
    while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
    while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
    return text;
}

std::string to_lower(std::string_view text) {
    std::string lower(text);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return lower;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && to_lower(a) == to_lower(b);
}

// tchar of RFC 9110: the characters of a header name or an unquoted token.
bool is_token_char(char c) {
    if (std::isalnum(static_cast<unsigned char>(c))) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_control(char c) {
    auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
}

// bchars of RFC 2046: what a boundary may contain (space only inside, never last).
bool is_boundary_char(char c) {
    if (std::isalnum(static_cast<unsigned char>(c))) return true;
    return std::string_view("'()+_,-./:=? ").find(c) != std::string_view::npos;
}

Error malformed(std::string message) {
    return make_error(Errc::malformed_multipart, std::move(message));
}

// Reads a quoted-string starting at text[0] == '"'; advances text past the closing quote.
std::optional<std::string> read_quoted(std::string_view& text) {
    std::string value;
    for (std::size_t i = 1; i < text.size(); ++i) {
        char c = text[i];
        if (c == '"') {
            text.remove_prefix(i + 1);
            return value;
        }
        if (c == '\\') {
            if (++i == text.size()) break;
            c = text[i];
        }
        if (is_control(c)) return std::nullopt;
        value.push_back(c);
    }
    return std::nullopt;
}

Result<HeaderParam> read_param(std::string_view& text) {
    auto equals = text.find('=');
    auto name = trim(text.substr(0, equals));
    if (equals == std::string_view::npos || name.empty() ||
        !std::all_of(name.begin(), name.end(), is_token_char)) {
        return malformed("header parameter '" + std::string(trim(text.substr(0, text.find(';')))) +
                         "' is not of the form name=value");
    }
    text = trim(text.substr(equals + 1));
    HeaderParam param{to_lower(name), {}};
    if (!text.empty() && text.front() == '"') {
        auto quoted = read_quoted(text);
        if (!quoted)
            return malformed("header parameter '" + param.name + "' has an unclosed quote");
        param.value = std::move(*quoted);
    } else {
        auto end = text.find(';');
        auto value = trim(text.substr(0, end));
        if (std::any_of(value.begin(), value.end(),
                        [](char c) { return is_control(c) || c == '"'; })) {
            return malformed("header parameter '" + param.name + "' has an invalid value");
        }
        param.value = std::string(value);
        text = end == std::string_view::npos ? std::string_view{} : text.substr(end);
    }
    return param;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Decodes an RFC 5987 ext-value: charset'language'percent-encoded-bytes.
Result<std::string> decode_ext_value(std::string_view value) {
    auto first = value.find('\'');
    auto second = first == std::string_view::npos ? first : value.find('\'', first + 1);
    if (second == std::string_view::npos) {
        return malformed("filename* value '" + std::string(value) +
                         "' is not of the form charset'language'value");
    }
    auto charset = to_lower(value.substr(0, first));
    if (charset != "utf-8" && charset != "iso-8859-1") {
        return malformed("filename* charset '" + charset + "' is not supported; use UTF-8");
    }
    std::string bytes;
    for (std::size_t i = second + 1; i < value.size(); ++i) {
        if (value[i] != '%') {
            bytes.push_back(value[i]);
            continue;
        }
        int high = i + 2 < value.size() ? hex_value(value[i + 1]) : -1;
        int low = high >= 0 ? hex_value(value[i + 2]) : -1;
        if (low < 0)
            return malformed("filename* has an invalid percent escape at offset " +
                             std::to_string(i));
        bytes.push_back(static_cast<char>(high * 16 + low));
        i += 2;
    }
    if (charset == "utf-8") return bytes;
    std::string utf8;  // ISO-8859-1 code points are the byte values
    for (unsigned char c : bytes) {
        if (c < 0x80) {
            utf8.push_back(static_cast<char>(c));
        } else {
            utf8.push_back(static_cast<char>(0xc0 | (c >> 6)));
            utf8.push_back(static_cast<char>(0x80 | (c & 0x3f)));
        }
    }
    return utf8;
}

Result<void> apply_disposition(std::string_view value, Part& part) {
    auto header = parse_structured_header(value);
    if (!header) return header.error();
    if (header->type != "form-data") {
        return malformed("part disposition '" + header->type + "' is not form-data");
    }
    auto* name = header->find("name");
    if (name == nullptr || name->empty())
        return malformed("a part has no name in its Content-Disposition");
    part.name = *name;
    if (auto* extended = header->find("filename*")) {
        auto decoded = decode_ext_value(*extended);
        if (!decoded) return decoded.error();
        part.filename = std::move(*decoded);
        part.has_filename = true;
    } else if (auto* filename = header->find("filename")) {
        part.filename = *filename;
        part.has_filename = true;
    }
    if (std::any_of(part.filename.begin(), part.filename.end(), is_control)) {
        return malformed("the filename of part '" + part.name + "' contains control characters");
    }
    return {};
}

Result<void> parse_part_headers(std::string_view block, Part& part) {
    bool has_disposition = false;
    while (!block.empty()) {
        auto end = block.find(kCrlf);
        auto line = block.substr(0, end);
        block = end == std::string_view::npos ? std::string_view{} : block.substr(end + 2);
        if (line.empty() || is_space(line.front())) {
            return malformed("part header line is empty or folded; folding is not allowed");
        }
        auto colon = line.find(':');
        auto name = line.substr(0, colon);
        if (colon == std::string_view::npos || name.empty() ||
            !std::all_of(name.begin(), name.end(), is_token_char)) {
            return malformed("part header line '" + std::string(line.substr(0, 60)) +
                             "' is not of the form Name: value");
        }
        auto value = trim(line.substr(colon + 1));
        if (std::any_of(value.begin(), value.end(), is_control)) {
            return malformed("part header '" + std::string(name) + "' contains control characters");
        }
        if (iequals(name, "content-disposition")) {
            if (has_disposition) return malformed("a part has two Content-Disposition headers");
            has_disposition = true;
            if (auto applied = apply_disposition(value, part); !applied) return applied.error();
        } else if (iequals(name, "content-type")) {
            part.content_type = std::string(value);
        }
    }
    if (!has_disposition) return malformed("a part has no Content-Disposition header");
    return {};
}

// Finds the delimiter CRLF "--" boundary that ends a part body, skipping look-alikes that
// continue with other characters. Returns the offset of the CRLF, or npos.
class DelimiterFinder {
  public:
    explicit DelimiterFinder(std::string_view boundary)
        : delimiter_("\r\n--" + std::string(boundary)),
          searcher_(delimiter_.begin(), delimiter_.end()) {}
    // searcher_ points into delimiter_, so a copy would point into the original.
    DelimiterFinder(const DelimiterFinder&) = delete;
    DelimiterFinder& operator=(const DelimiterFinder&) = delete;

    std::size_t find(std::string_view body, std::size_t from) const {
        while (from <= body.size()) {
            auto it = std::search(body.begin() + from, body.end(), searcher_);
            if (it == body.end()) return std::string_view::npos;
            auto offset = static_cast<std::size_t>(it - body.begin());
            if (ends_line(body, offset + delimiter_.size())) return offset;
            from = offset + 1;
        }
        return std::string_view::npos;
    }

    std::size_t size() const { return delimiter_.size(); }

  private:
    // A real delimiter is followed by "--", or by optional padding and CRLF, or by the end of a
    // truncated body (reported by the caller).
    static bool ends_line(std::string_view body, std::size_t at) {
        auto rest = body.substr(at);
        if (rest.empty() || rest.starts_with("--")) return true;
        while (!rest.empty() && is_space(rest.front())) rest.remove_prefix(1);
        return rest.empty() || rest.starts_with(kCrlf) || rest == "\r";
    }

    std::string delimiter_;
    std::boyer_moore_horspool_searcher<std::string::const_iterator> searcher_;
};

// After a delimiter: "--" closes the body, otherwise padding and CRLF open the next part.
// Returns the offset of the next part's headers, or npos for the close delimiter.
Result<std::size_t> after_delimiter(std::string_view body, std::size_t at) {
    auto rest = body.substr(at);
    if (rest.starts_with("--")) return std::string_view::npos;
    auto padding = rest.find_first_not_of(" \t");
    if (padding == std::string_view::npos || !rest.substr(padding).starts_with(kCrlf)) {
        if (padding == std::string_view::npos || rest.substr(padding) == "\r") {
            return make_error(Errc::truncated_multipart,
                              "multipart body ends right after a boundary; the upload was cut off");
        }
        return malformed("a multipart boundary line is not followed by CRLF");
    }
    return at + padding + 2;
}

}  // namespace

const std::string* StructuredHeader::find(std::string_view name) const {
    auto lower = to_lower(name);
    for (const auto& param : params) {
        if (param.name == lower) return &param.value;
    }
    return nullptr;
}

Result<StructuredHeader> parse_structured_header(std::string_view value) {
    auto semicolon = value.find(';');
    StructuredHeader header{to_lower(trim(value.substr(0, semicolon))), {}};
    if (header.type.empty())
        return malformed("header value '" + std::string(value.substr(0, 60)) + "' has no type");
    auto rest = semicolon == std::string_view::npos ? std::string_view{} : value.substr(semicolon);
    while (!rest.empty()) {
        rest = trim(rest.substr(1));  // past the ';'
        if (rest.empty()) break;
        auto param = read_param(rest);
        if (!param) return param.error();
        header.params.push_back(std::move(*param));
        rest = trim(rest);
        if (!rest.empty() && rest.front() != ';') {
            return malformed("header parameter '" + header.params.back().name +
                             "' is followed by '" + std::string(rest.substr(0, 20)) +
                             "' instead of ';'");
        }
    }
    return header;
}

Result<std::string> multipart_boundary(std::string_view content_type) {
    auto header = parse_structured_header(content_type);
    if (!header) return make_error(Errc::no_boundary, header.error().message);
    if (header->type != "multipart/form-data") {
        return make_error(Errc::no_boundary,
                          "content type '" + header->type + "' is not multipart/form-data");
    }
    const auto* boundary = header->find("boundary");
    if (boundary == nullptr || boundary->empty()) {
        return make_error(Errc::no_boundary,
                          "multipart/form-data Content-Type has no boundary parameter");
    }
    if (boundary->size() > kMaxBoundaryLength) {
        return make_error(Errc::invalid_boundary, "multipart boundary is " +
                                                      std::to_string(boundary->size()) +
                                                      " characters long; the maximum is 70");
    }
    if (!std::all_of(boundary->begin(), boundary->end(), is_boundary_char) ||
        boundary->back() == ' ') {
        return make_error(Errc::invalid_boundary,
                          "multipart boundary contains characters that RFC 2046 does not allow");
    }
    return *boundary;
}

Result<std::vector<Part>> parse_multipart(std::string_view body, std::string_view boundary,
                                          const MultipartLimits& limits) {
    if (boundary.empty() || boundary.size() > kMaxBoundaryLength) {
        return make_error(Errc::invalid_boundary, "multipart boundary must be 1..70 characters");
    }
    DelimiterFinder finder(boundary);
    std::string first = "--" + std::string(boundary);
    std::size_t at = 0;
    if (!body.starts_with(first)) {
        at = finder.find(body, 0);
        if (at == std::string_view::npos) {
            return malformed("multipart body does not contain its boundary '" +
                             std::string(boundary) + "'");
        }
        at += 2;
    }
    at += first.size();

    std::vector<Part> parts;
    for (;;) {
        auto next = after_delimiter(body, at);
        if (!next) return next.error();
        if (*next == std::string_view::npos) break;
        if (parts.size() == limits.max_parts) {
            return make_error(
                Errc::too_many_parts,
                "multipart body has more than " + std::to_string(limits.max_parts) + " parts");
        }
        at = *next;

        Part part;
        std::size_t content = at + 2;
        std::string_view headers;
        if (!body.substr(at).starts_with(kCrlf)) {
            auto window = body.substr(at, limits.max_header_bytes + 4);
            auto end = window.find("\r\n\r\n");
            if (end == std::string_view::npos) {
                if (body.size() - at > limits.max_header_bytes) {
                    return make_error(Errc::header_too_large,
                                      "a part's headers exceed " +
                                          std::to_string(limits.max_header_bytes) + " bytes");
                }
                return make_error(Errc::truncated_multipart,
                                  "multipart body ends inside a part's headers");
            }
            headers = window.substr(0, end);
            content = at + end + 4;
        }
        if (auto parsed = parse_part_headers(headers, part); !parsed) return parsed.error();

        auto end = finder.find(body, content);
        if (end == std::string_view::npos || end + finder.size() >= body.size()) {
            return make_error(Errc::truncated_multipart,
                              "multipart body ends without the close delimiter '--" +
                                  std::string(boundary) + "--'");
        }
        part.body = body.substr(content, end - content);
        parts.push_back(std::move(part));
        at = end + finder.size();
    }
    if (parts.empty()) return malformed("multipart body has no parts");
    return parts;
}

}  // namespace imgbus::http
