// SPDX-License-Identifier: MIT
#include "xml.hpp"

#include <expat.h>
#include <fmt/format.h>

#include <charconv>
#include <memory>

#include "imgbus/s3/error.hpp"

namespace imgbus::s3 {
namespace {

constexpr std::string_view kNamespace = "http://s3.amazonaws.com/doc/2006-03-01/";
constexpr std::size_t kMaxRequestElements = 40'000;
constexpr std::size_t kMaxText = 4096;

using Node = XmlNode;

struct ParseState {
    Node root;
    std::vector<Node*> stack;
    std::size_t elements = 0;
    std::size_t max_elements = 0;
    std::size_t max_depth = 0;
    std::string error;
    XML_Parser parser = nullptr;

    void fail(std::string message) {
        if (error.empty()) error = std::move(message);
        XML_StopParser(parser, XML_FALSE);
    }
};

std::string local_name(const char* name) {
    std::string_view text(name);
    const auto colon = text.rfind(':');
    return std::string(colon == std::string_view::npos ? text : text.substr(colon + 1));
}

void on_start(void* data, const char* name, const char**) {
    auto& state = *static_cast<ParseState*>(data);
    if (state.stack.size() >= state.max_depth || ++state.elements > state.max_elements) {
        state.fail("the document nests too deeply or has too many elements");
        return;
    }
    Node* parent = state.stack.empty() ? nullptr : state.stack.back();
    Node* node = nullptr;
    if (parent == nullptr) {
        node = &state.root;
    } else {
        parent->children.push_back(Node{});
        node = &parent->children.back();
    }
    node->name = local_name(name);
    state.stack.push_back(node);
}

void on_end(void* data, const char*) { static_cast<ParseState*>(data)->stack.pop_back(); }

void on_text(void* data, const char* text, int length) {
    auto& state = *static_cast<ParseState*>(data);
    if (state.stack.empty()) return;
    auto& node = *state.stack.back();
    if (node.text.size() + static_cast<std::size_t>(length) > kMaxText) {
        state.fail("an element's text is longer than 4096 bytes");
        return;
    }
    node.text.append(text, static_cast<std::size_t>(length));
}

void on_doctype(void* data, const char*, const char*, const char*, int) {
    static_cast<ParseState*>(data)->fail("a DOCTYPE is not allowed");
}

void on_entity(void* data, const XML_Char*, int, const XML_Char*, int, const XML_Char*,
               const XML_Char*, const XML_Char*, const XML_Char*) {
    static_cast<ParseState*>(data)->fail("entity declarations are not allowed");
}

Error malformed(const std::string& why) {
    return make_error(Errc::malformed_xml,
                      "the XML you provided was not well-formed or did not validate against the "
                      "S3 schema: " +
                          why);
}

}  // namespace

// Child nodes live in vectors whose elements move as siblings are added, so the parse stack holds
// pointers only to open elements, whose parents get no new children until they close.
Result<XmlNode> parse_xml(std::string_view body, std::string_view root_name,
                          std::size_t max_elements, std::size_t max_depth) {
    std::unique_ptr<std::remove_pointer_t<XML_Parser>, decltype(&XML_ParserFree)> parser(
        XML_ParserCreate("UTF-8"), &XML_ParserFree);
    ParseState state;
    state.parser = parser.get();
    state.max_elements = max_elements;
    state.max_depth = max_depth;
    XML_SetUserData(parser.get(), &state);
    XML_SetElementHandler(parser.get(), on_start, on_end);
    XML_SetCharacterDataHandler(parser.get(), on_text);
    XML_SetStartDoctypeDeclHandler(parser.get(), on_doctype);
    XML_SetEntityDeclHandler(parser.get(), on_entity);
    const auto status =
        XML_Parse(parser.get(), body.data(), static_cast<int>(body.size()), XML_TRUE);
    if (!state.error.empty()) return malformed(state.error);
    if (status != XML_STATUS_OK) {
        return malformed(fmt::format("{} at line {}",
                                     XML_ErrorString(XML_GetErrorCode(parser.get())),
                                     XML_GetCurrentLineNumber(parser.get())));
    }
    if (state.root.name != root_name) {
        return malformed(fmt::format("the root element is <{}>, expected <{}>",
                                     state.root.name.substr(0, 64), root_name));
    }
    return std::move(state.root);
}

namespace {

Result<Node> parse_document(std::string_view body, std::string_view root_name) {
    return parse_xml(body, root_name, kMaxRequestElements);
}

const Node* child(const Node& node, std::string_view name) { return node.child(name); }

std::string strip_quotes(std::string_view etag) {
    if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
        etag = etag.substr(1, etag.size() - 2);
    }
    return std::string(etag);
}

}  // namespace

const XmlNode* XmlNode::child(std::string_view wanted) const {
    for (const auto& node : children) {
        if (node.name == wanted) return &node;
    }
    return nullptr;
}

std::string XmlNode::child_text(std::string_view wanted) const {
    const XmlNode* node = child(wanted);
    return node ? node->text : std::string();
}

std::string xml_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&apos;";
                break;
            default:
                if (byte < 0x20 && c != '\t' && c != '\n') {
                    out += fmt::format("&#x{:X};", byte);
                } else {
                    out.push_back(c);
                }
        }
    }
    return out;
}

XmlWriter::XmlWriter() : text_("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n") {}

XmlWriter& XmlWriter::open(std::string_view tag, bool with_namespace) {
    text_ += "<";
    text_ += tag;
    if (with_namespace) {
        text_ += " xmlns=\"";
        text_ += kNamespace;
        text_ += "\"";
    }
    text_ += ">";
    open_.emplace_back(tag);
    return *this;
}

XmlWriter& XmlWriter::close() {
    text_ += "</" + open_.back() + ">";
    open_.pop_back();
    return *this;
}

XmlWriter& XmlWriter::element(std::string_view tag, std::string_view text) {
    text_ += fmt::format("<{}>{}</{}>", tag, xml_escape(text), tag);
    return *this;
}

XmlWriter& XmlWriter::element(std::string_view tag, std::uint64_t number) {
    text_ += fmt::format("<{}>{}</{}>", tag, number, tag);
    return *this;
}

std::string XmlWriter::finish() {
    while (!open_.empty()) close();
    return std::move(text_);
}

Result<std::vector<CompletedPart>> parse_complete_multipart(std::string_view body) {
    auto root = parse_document(body, "CompleteMultipartUpload");
    if (!root) return root.error();
    std::vector<CompletedPart> parts;
    for (const auto& node : root->children) {
        if (node.name != "Part") continue;
        const Node* number = child(node, "PartNumber");
        const Node* etag = child(node, "ETag");
        if (number == nullptr || etag == nullptr) {
            return malformed("each <Part> needs <PartNumber> and <ETag>");
        }
        CompletedPart part;
        const auto& text = number->text;
        const auto [end, error] =
            std::from_chars(text.data(), text.data() + text.size(), part.part_number);
        if (error != std::errc() || end != text.data() + text.size() || part.part_number < 1 ||
            part.part_number > 10000) {
            return malformed(fmt::format("<PartNumber> '{}' is not a number from 1 to 10000",
                                         text.substr(0, 32)));
        }
        part.etag = strip_quotes(etag->text);
        parts.push_back(std::move(part));
    }
    if (parts.empty()) {
        return malformed("<CompleteMultipartUpload> lists no <Part>");
    }
    if (parts.size() > 10000) {
        return malformed("more than 10000 parts");
    }
    return parts;
}

Result<DeleteRequest> parse_delete_objects(std::string_view body) {
    auto root = parse_document(body, "Delete");
    if (!root) return root.error();
    DeleteRequest request;
    for (const auto& node : root->children) {
        if (node.name == "Quiet") {
            request.quiet = node.text == "true";
        } else if (node.name == "Object") {
            const Node* key = child(node, "Key");
            if (key == nullptr) {
                return malformed("each <Object> needs a <Key>");
            }
            request.keys.push_back(key->text);
        }
    }
    if (request.keys.empty() || request.keys.size() > 1000) {
        return malformed(
            fmt::format("<Delete> lists {} objects; send 1 to 1000", request.keys.size()));
    }
    return request;
}

}  // namespace imgbus::s3
