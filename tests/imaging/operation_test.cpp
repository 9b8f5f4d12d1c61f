// SPDX-License-Identifier: MIT
#include "imgbus/imaging/operation.hpp"

#include <catch2/catch.hpp>

#include "imaging/test_files.hpp"
#include "imgbus/imaging/error.hpp"
#include "imgbus/imaging/grayscale.hpp"

namespace imaging = imgbus::imaging;
using imaging::Errc;

namespace {

imaging::OperationRegistry registry_with_blur() {
    imaging::OperationRegistry registry;
    imaging::Operation blur;
    blur.name = "blur";
    blur.description = "test operation";
    blur.params = {{"sigma", "radius", imaging::ParamSpec::Type::number, 1.0, 0.1, 50},
                   {"steps", "count", imaging::ParamSpec::Type::integer, 2, 1, 8}};
    blur.kernel = [](const imaging::Image& input, const imaging::ParamValues&,
                     const imaging::KernelContext&) -> imgbus::Result<imaging::Image> {
        return input;
    };
    registry.add(blur);
    return registry;
}

}  // namespace

TEST_CASE("global registry has grayscale", "[imaging]") {
    const auto& registry = imaging::OperationRegistry::global();
    const auto* grayscale = registry.find("grayscale");
    REQUIRE(grayscale != nullptr);
    CHECK(grayscale->params.empty());
    CHECK_THAT(grayscale->description, Catch::Contains("BT.601"));
    CHECK(registry.list().size() >= 1);
    CHECK(registry.find("blurr") == nullptr);
}

TEST_CASE("grayscale kernel through the registry", "[imaging]") {
    const auto* grayscale = imaging::OperationRegistry::global().find("grayscale");
    REQUIRE(grayscale != nullptr);
    const auto input = imaging::testing::make_pattern(64, 9, 3);
    auto output = grayscale->kernel(input, {}, {2, 3});
    REQUIRE(output.ok());
    CHECK(output->pixels == imaging::grayscale_reference(input).pixels);

    auto no_threads = grayscale->kernel(input, {}, {0, 1});
    REQUIRE_FALSE(no_threads.ok());
    CHECK(no_threads.error().code == Errc::invalid_argument);
    CHECK_THAT(no_threads.error().message, Catch::Contains("threads = 0"));

    auto no_passes = grayscale->kernel(input, {}, {1, 0});
    REQUIRE_FALSE(no_passes.ok());
    CHECK_THAT(no_passes.error().message, Catch::Contains("passes = 0"));
}

TEST_CASE("validate names unknown operations", "[imaging]") {
    auto result = imaging::OperationRegistry::global().validate("blurr", {});
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().code == Errc::invalid_argument);
    CHECK_THAT(result.error().message,
               Catch::StartsWith("unknown operation 'blurr'; known: box_blur, "));
}

TEST_CASE("validate rejects parameters grayscale lacks", "[imaging]") {
    auto result = imaging::OperationRegistry::global().validate("grayscale", {{"sigma", "2"}});
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().code == Errc::invalid_argument);
    CHECK_THAT(result.error().message, Catch::Contains("'sigma'"));
    CHECK_THAT(result.error().message, Catch::Contains("no parameters"));
    CHECK(imaging::OperationRegistry::global().validate("grayscale", {}).ok());
}

TEST_CASE("validate fills defaults and parses values", "[imaging]") {
    const auto registry = registry_with_blur();
    auto defaults = registry.validate("blur", {});
    REQUIRE(defaults.ok());
    CHECK(defaults->at("sigma") == 1.0);
    CHECK(defaults->at("steps") == 2);

    auto given = registry.validate("blur", {{"sigma", "2.5"}, {"steps", "8"}});
    REQUIRE(given.ok());
    CHECK(given->at("sigma") == 2.5);
    CHECK(given->at("steps") == 8);
}

TEST_CASE("validate range and type errors", "[imaging]") {
    const auto registry = registry_with_blur();
    auto high = registry.validate("blur", {{"sigma", "99"}});
    REQUIRE_FALSE(high.ok());
    CHECK(high.error().message == "parameter 'sigma' = 99 is out of range 0.1..50");

    const char* bad_values[] = {"", "abc", "1e999", "nan", "inf", "2x", " 2", "0x10", "-"};
    for (const char* raw : bad_values) {
        INFO("sigma = '" << raw << "'");
        auto result = registry.validate("blur", {{"sigma", raw}});
        REQUIRE_FALSE(result.ok());
        CHECK(result.error().code == Errc::invalid_argument);
        CHECK_THAT(result.error().message, Catch::Contains("'sigma'"));
    }

    auto fraction = registry.validate("blur", {{"steps", "2.5"}});
    REQUIRE_FALSE(fraction.ok());
    CHECK_THAT(fraction.error().message, Catch::Contains("not an integer"));

    auto low = registry.validate("blur", {{"steps", "0"}});
    REQUIRE_FALSE(low.ok());
    CHECK(low.error().message == "parameter 'steps' = 0 is out of range 1..8");

    auto unknown = registry.validate("blur", {{"radius", "1"}, {"zeta", "2"}});
    REQUIRE_FALSE(unknown.ok());
    CHECK_THAT(unknown.error().message, Catch::Contains("'radius', 'zeta'"));
    CHECK_THAT(unknown.error().message, Catch::Contains("sigma, steps"));
}

TEST_CASE("add replaces an operation of the same name", "[imaging]") {
    auto registry = registry_with_blur();
    imaging::Operation replacement;
    replacement.name = "blur";
    replacement.description = "second";
    registry.add(replacement);
    REQUIRE(registry.find("blur") != nullptr);
    CHECK(registry.find("blur")->description == "second");
    CHECK(registry.list().size() == 1);
}
