// SPDX-License-Identifier: MIT
#include "multipart.hpp"

#include <catch2/catch.hpp>
#include <string>

using imgbus::http::Errc;
using imgbus::http::multipart_boundary;
using imgbus::http::parse_multipart;
using imgbus::http::parse_structured_header;

namespace {

std::string field(const std::string& boundary, const std::string& name, const std::string& value) {
    return "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" +
           value + "\r\n";
}

std::string file(const std::string& boundary, const std::string& body) {
    return "--" + boundary +
           "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.jpg\"\r\n"
           "Content-Type: image/jpeg\r\n\r\n" +
           body + "\r\n";
}

}  // namespace

TEST_CASE("multipart boundary from Content-Type", "[http][multipart]") {
    auto plain = multipart_boundary("multipart/form-data; boundary=abc123");
    REQUIRE(plain);
    CHECK(*plain == "abc123");

    auto quoted = multipart_boundary("Multipart/Form-Data; charset=utf-8; BOUNDARY=\"a b:c\"");
    REQUIRE(quoted);
    CHECK(*quoted == "a b:c");

    auto missing = multipart_boundary("multipart/form-data");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code == Errc::no_boundary);

    auto other_type = multipart_boundary("application/json; boundary=x");
    REQUIRE_FALSE(other_type);
    CHECK(other_type.error().code == Errc::no_boundary);

    auto too_long = multipart_boundary("multipart/form-data; boundary=" + std::string(71, 'x'));
    REQUIRE_FALSE(too_long);
    CHECK(too_long.error().code == Errc::invalid_boundary);
    CHECK(too_long.error().message.find("71") != std::string::npos);

    CHECK(multipart_boundary("multipart/form-data; boundary=" + std::string(70, 'x')));
    CHECK_FALSE(multipart_boundary("multipart/form-data; boundary=\"ab\\\"c\""));
    CHECK_FALSE(multipart_boundary("multipart/form-data; boundary=\"trailing \""));
    CHECK_FALSE(multipart_boundary("multipart/form-data; boundary=\"unclosed"));
    CHECK_FALSE(multipart_boundary("multipart/form-data; boundary"));
    CHECK_FALSE(multipart_boundary(""));
}

TEST_CASE("structured header parameters", "[http][multipart]") {
    auto header =
        parse_structured_header(R"(form-data; name="image"; filename="a \"quoted\" name.jpg";)");
    REQUIRE(header);
    CHECK(header->type == "form-data");
    REQUIRE(header->find("NAME") != nullptr);
    CHECK(*header->find("name") == "image");
    CHECK(*header->find("filename") == "a \"quoted\" name.jpg");
    CHECK(header->find("missing") == nullptr);

    CHECK_FALSE(parse_structured_header("form-data; name=\"a\" junk"));
    CHECK_FALSE(parse_structured_header("; name=a"));
    CHECK_FALSE(parse_structured_header("form-data; =a"));
}

TEST_CASE("multipart with fields and a file", "[http][multipart]") {
    std::string boundary = "----WebKitFormBoundary7MA4YWxkTrZu0gW";
    std::string image = std::string("\xff\xd8\xff\0binary\r\n", 13) + "rest";
    std::string body = "preamble to ignore\r\n" + field(boundary, "threads", "1,2,4") +
                       file(boundary, image) + "--" + boundary + "--\r\nepilogue";
    auto parts = parse_multipart(body, boundary);
    REQUIRE(parts);
    REQUIRE(parts->size() == 2);
    CHECK((*parts)[0].name == "threads");
    CHECK((*parts)[0].body == "1,2,4");
    CHECK_FALSE((*parts)[0].has_filename);
    CHECK((*parts)[1].name == "image");
    CHECK((*parts)[1].filename == "a.jpg");
    CHECK((*parts)[1].content_type == "image/jpeg");
    CHECK((*parts)[1].body == image);
    // The part body is a view into the request body, not a copy.
    CHECK((*parts)[1].body.data() >= body.data());
    CHECK((*parts)[1].body.data() < body.data() + body.size());
}

TEST_CASE("multipart filename star wins and is decoded", "[http][multipart]") {
    std::string body =
        "--b\r\nContent-Disposition: form-data; name=\"image\"; filename=\"plain.jpg\"; "
        "filename*=UTF-8''caf%C3%A9%20photo.jpg\r\n\r\nX\r\n--b--";
    auto parts = parse_multipart(body, "b");
    REQUIRE(parts);
    CHECK((*parts)[0].filename == "caf\xc3\xa9 photo.jpg");

    std::string latin =
        "--b\r\nContent-Disposition: form-data; name=i; "
        "filename*=iso-8859-1'en'%E9\r\n\r\nX\r\n--b--";
    auto latin_parts = parse_multipart(latin, "b");
    REQUIRE(latin_parts);
    CHECK((*latin_parts)[0].filename == "\xc3\xa9");

    std::string bad_escape =
        "--b\r\nContent-Disposition: form-data; name=i; filename*=UTF-8''%G1\r\n\r\nX\r\n--b--";
    CHECK_FALSE(parse_multipart(bad_escape, "b"));
    std::string cut_escape =
        "--b\r\nContent-Disposition: form-data; name=i; filename*=UTF-8''%4\r\n\r\nX\r\n--b--";
    CHECK_FALSE(parse_multipart(cut_escape, "b"));
    std::string no_quotes =
        "--b\r\nContent-Disposition: form-data; name=i; filename*=abc\r\n\r\nX\r\n--b--";
    CHECK_FALSE(parse_multipart(no_quotes, "b"));
    std::string control =
        "--b\r\nContent-Disposition: form-data; name=i; filename*=UTF-8''a%0Ab\r\n\r\nX\r\n--b--";
    CHECK_FALSE(parse_multipart(control, "b"));
}

TEST_CASE("multipart near-boundary bytes stay in the body", "[http][multipart]") {
    std::string boundary = "boundary";
    std::string tricky = "a\r\n--boundar\r\n--boundaryX\r\n--boundary-\r\n-boundary\r\nb";
    std::string body = file(boundary, tricky) + "--" + boundary + "--";
    auto parts = parse_multipart(body, boundary);
    REQUIRE(parts);
    REQUIRE(parts->size() == 1);
    CHECK((*parts)[0].body == tricky);
}

TEST_CASE("multipart empty part body and padding", "[http][multipart]") {
    std::string body = "--b \t\r\nContent-Disposition: form-data; name=e\r\n\r\n\r\n--b--";
    auto parts = parse_multipart(body, "b");
    REQUIRE(parts);
    CHECK((*parts)[0].body.empty());
}

TEST_CASE("multipart hostile framing", "[http][multipart]") {
    std::string good = file("b", "data") + "--b--";

    SECTION("truncated at every length") {
        for (std::size_t n = 0; n < good.size() - 1; ++n) {
            INFO("length " << n);
            CHECK_FALSE(parse_multipart(good.substr(0, n), "b"));
        }
        // Truncation after the close delimiter's dashes still yields the part.
        CHECK(parse_multipart(good, "b"));
    }
    SECTION("missing close delimiter") {
        auto result = parse_multipart(file("b", "data"), "b");
        REQUIRE_FALSE(result);
        CHECK(result.error().code == Errc::truncated_multipart);
    }
    SECTION("wrong boundary") {
        auto result = parse_multipart(good, "other");
        REQUIRE_FALSE(result);
        CHECK(result.error().code == Errc::malformed_multipart);
    }
    SECTION("no boundary given") {
        CHECK_FALSE(parse_multipart(good, ""));
        CHECK_FALSE(parse_multipart(good, std::string(71, 'b')));
    }
    SECTION("zero parts") {
        auto result = parse_multipart("--b--\r\n", "b");
        REQUIRE_FALSE(result);
        CHECK(result.error().code == Errc::malformed_multipart);
        CHECK_FALSE(parse_multipart("", "b"));
    }
    SECTION("delimiter line with junk") {
        CHECK_FALSE(parse_multipart(
            "--b junk\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--b--", "b"));
    }
    SECTION("huge header") {
        std::string huge =
            "--b\r\nContent-Disposition: form-data; name=a\r\nX-Pad: " + std::string(20000, 'p') +
            "\r\n\r\nx\r\n--b--";
        auto result = parse_multipart(huge, "b");
        REQUIRE_FALSE(result);
        CHECK(result.error().code == Errc::header_too_large);
    }
    SECTION("bad part headers") {
        CHECK_FALSE(parse_multipart("--b\r\nno colon here\r\n\r\nx\r\n--b--", "b"));
        CHECK_FALSE(parse_multipart("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--", "b"));
        CHECK_FALSE(parse_multipart(
            "--b\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n--b--", "b"));
        CHECK_FALSE(
            parse_multipart("--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--", "b"));
        CHECK_FALSE(parse_multipart(
            "--b\r\nContent-Disposition: form-data; name=a\r\n folded\r\n\r\nx\r\n--b--", "b"));
        CHECK_FALSE(parse_multipart(
            "--b\r\nContent-Disposition: form-data; name=a\r\nContent-Disposition: form-data; "
            "name=b\r\n\r\nx\r\n--b--",
            "b"));
        CHECK_FALSE(parse_multipart(
            std::string("--b\r\nContent-Disposition: form-data; name=a\0\r\n\r\nx\r\n--b--", 60),
            "b"));
        // A part without headers has no name, which form-data requires.
        CHECK_FALSE(parse_multipart("--b\r\n\r\nx\r\n--b--", "b"));
    }
}

TEST_CASE("multipart part-count limit", "[http][multipart]") {
    std::string body;
    for (int i = 0; i < 10000; ++i) {
        std::string name = "f";
        name += std::to_string(i);
        body += field("b", name, "v");
    }
    body += "--b--";

    auto limited = parse_multipart(body, "b");
    REQUIRE_FALSE(limited);
    CHECK(limited.error().code == Errc::too_many_parts);

    auto all = parse_multipart(body, "b", {.max_parts = 10000, .max_header_bytes = 8192});
    REQUIRE(all);
    CHECK(all->size() == 10000);
    CHECK(all->back().name == "f9999");
}
