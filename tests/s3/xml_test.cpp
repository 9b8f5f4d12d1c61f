// SPDX-License-Identifier: MIT
#include "xml.hpp"

#include <catch2/catch.hpp>

#include "imgbus/s3/error.hpp"

using namespace imgbus::s3;

namespace {

Errc errc_of(const imgbus::Error& error) { return static_cast<Errc>(error.code.value()); }

}  // namespace

TEST_CASE("xml escape covers markup and control bytes", "[s3]") {
    CHECK(xml_escape("a<b>&\"c'") == "a&lt;b&gt;&amp;&quot;c&apos;");
    CHECK(xml_escape(std::string("x\x01y", 3)) == "x&#x1;y");
    CHECK(xml_escape("tab\there") == "tab\there");
}

TEST_CASE("xml writer nests and closes", "[s3]") {
    XmlWriter xml;
    xml.open("Root", true).element("Key", "a&b").open("Inner").element("Size", 42);
    const auto text = xml.finish();
    CHECK(text.find("<Root xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">") !=
          std::string::npos);
    CHECK(text.find("<Key>a&amp;b</Key><Inner><Size>42</Size></Inner></Root>") !=
          std::string::npos);
}

TEST_CASE("complete multipart document parses", "[s3]") {
    auto parts = parse_complete_multipart(
        "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<Part><PartNumber>1</PartNumber><ETag>\"aaa\"</ETag></Part>"
        "<Part><ETag>bbb</ETag><PartNumber>2</PartNumber></Part>"
        "</CompleteMultipartUpload>");
    REQUIRE(parts.ok());
    REQUIRE(parts->size() == 2);
    CHECK((*parts)[0].part_number == 1);
    CHECK((*parts)[0].etag == "aaa");
    CHECK((*parts)[1].part_number == 2);
    CHECK((*parts)[1].etag == "bbb");
}

TEST_CASE("delete objects document parses", "[s3]") {
    auto request = parse_delete_objects(
        "<?xml version=\"1.0\"?><Delete><Quiet>true</Quiet>"
        "<Object><Key>a/b</Key></Object><Object><Key>c&amp;d</Key></Object></Delete>");
    REQUIRE(request.ok());
    CHECK(request->quiet);
    REQUIRE(request->keys.size() == 2);
    CHECK(request->keys[0] == "a/b");
    CHECK(request->keys[1] == "c&d");
}

TEST_CASE("hostile xml is MalformedXML", "[s3]") {
    const std::string bomb =
        "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY a \"aaaaaaaaaa\">"
        "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]><Delete><Object><Key>&b;</Key></Object>"
        "</Delete>";
    std::string deep = "<Delete>";
    for (int i = 0; i < 100; ++i) deep += "<Object>";
    std::string many = "<Delete>";
    for (int i = 0; i < 1001; ++i) many += "<Object><Key>k</Key></Object>";
    many += "</Delete>";
    const std::string cases[] = {
        "",
        "not xml",
        "<Delete>",
        "<Delete><Object><Key>a</Key></Object>",
        "<Wrong><Object><Key>a</Key></Object></Wrong>",
        "<Delete></Delete>",
        "<Delete><Object></Object></Delete>",
        bomb,
        deep,
        many,
        "<Delete><Object><Key>" + std::string(5000, 'k') + "</Key></Object></Delete>",
        std::string("<Delete><Object><Key>a\0b</Key></Object></Delete>", 46),
    };
    for (const auto& body : cases) {
        INFO(body.substr(0, 60));
        auto request = parse_delete_objects(body);
        REQUIRE_FALSE(request.ok());
        CHECK(errc_of(request.error()) == Errc::malformed_xml);
    }
}

TEST_CASE("bad part numbers are MalformedXML", "[s3]") {
    const char* cases[] = {
        "<CompleteMultipartUpload></CompleteMultipartUpload>",
        "<CompleteMultipartUpload><Part><PartNumber>0</PartNumber><ETag>a</ETag></Part>"
        "</CompleteMultipartUpload>",
        "<CompleteMultipartUpload><Part><PartNumber>10001</PartNumber><ETag>a</ETag></Part>"
        "</CompleteMultipartUpload>",
        "<CompleteMultipartUpload><Part><PartNumber>-1</PartNumber><ETag>a</ETag></Part>"
        "</CompleteMultipartUpload>",
        "<CompleteMultipartUpload><Part><PartNumber>1x</PartNumber><ETag>a</ETag></Part>"
        "</CompleteMultipartUpload>",
        "<CompleteMultipartUpload><Part><ETag>a</ETag></Part></CompleteMultipartUpload>",
    };
    for (const char* body : cases) {
        INFO(body);
        auto parts = parse_complete_multipart(body);
        REQUIRE_FALSE(parts.ok());
        CHECK(errc_of(parts.error()) == Errc::malformed_xml);
    }
}
