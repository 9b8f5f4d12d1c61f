// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "imgbus/result.hpp"

namespace imgbus::s3 {

// Escapes text for XML element content. Control characters that XML 1.0 cannot carry are written
// as numeric references, as S3 does; clients that must round-trip them ask for encoding-type=url.
std::string xml_escape(std::string_view text);

// Builds an S3 response document element by element.
class XmlWriter {
  public:
    XmlWriter();
    // Opens <tag>, with the S3 namespace when `with_namespace` is set (root elements).
    XmlWriter& open(std::string_view tag, bool with_namespace = false);
    XmlWriter& close();
    XmlWriter& element(std::string_view tag, std::string_view text);
    XmlWriter& element(std::string_view tag, std::uint64_t number);
    std::string finish();

  private:
    std::string text_;
    std::vector<std::string> open_;
};

// A parsed element: its local name (without a namespace prefix), text and children.
struct XmlNode {
    std::string name;
    std::string text;
    std::vector<XmlNode> children;

    // The first child named `name`, or null.
    const XmlNode* child(std::string_view name) const;
    // The text of the first child named `name`, or "".
    std::string child_text(std::string_view name) const;
};

// Parses a document whose root must be `root_name`, with at most `max_elements` elements. A
// DOCTYPE, entity declarations or nesting deeper than `max_depth` are MalformedXML.
Result<XmlNode> parse_xml(std::string_view body, std::string_view root_name,
                          std::size_t max_elements, std::size_t max_depth = 4);

struct CompletedPart {
    int part_number = 0;
    std::string etag;  // without quotes
};

struct DeleteRequest {
    bool quiet = false;
    std::vector<std::string> keys;
};

// Parse the two request documents the API accepts. Anything that is not well-formed, has a
// DOCTYPE, nests deeper than S3's schema or has more items than S3 allows is MalformedXML.
Result<std::vector<CompletedPart>> parse_complete_multipart(std::string_view body);
Result<DeleteRequest> parse_delete_objects(std::string_view body);

}  // namespace imgbus::s3
