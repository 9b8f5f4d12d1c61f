// SPDX-License-Identifier: MIT
// `imgbus process IN OUT`: decode one image, run one operation or a pipeline, encode the result,
// and print the time of each step. No server, queue or store is involved.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "commands.hpp"
#include "imgbus/imaging/codec.hpp"
#include "imgbus/imaging/operation.hpp"

namespace imgbus::cli {
namespace {

namespace fs = std::filesystem;
namespace imaging = imgbus::imaging;

constexpr std::uintmax_t kMaxInputBytes = 1ull << 30;

struct ProcessOptions {
    std::string input;
    std::string output;
    std::string operation = "grayscale";
    std::vector<std::string> params;  // NAME=VALUE
    int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    int passes = 1;
    int quality = 90;
    std::uint64_t max_pixels = imaging::DecodeLimits{}.max_pixels;
};

// Prints "imgbus process: MESSAGE" and ends the command with exit code 1.
[[noreturn]] void fail(const std::string& message) {
    std::fprintf(stderr, "imgbus process: %s\n", message.c_str());
    throw CLI::RuntimeError(1);
}

std::vector<std::uint8_t> read_input(const fs::path& path) {
    std::error_code error;
    const auto size = fs::file_size(path, error);
    if (error) {
        fail(path.string() + ": cannot read: " + error.message());
    }
    if (size > kMaxInputBytes) {
        fail(path.string() + ": file is " + std::to_string(size) +
             " bytes, over the 1 GiB input limit; send a smaller file");
    }
    std::ifstream file(path, std::ios::binary);
    std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(file),
                                    std::istreambuf_iterator<char>()};
    if (!file.eof() && file.fail()) {
        fail(path.string() + ": read failed");
    }
    return bytes;
}

// Writes through a temporary file in the same folder and renames it, so OUT is never half written.
void write_output(const fs::path& path, const std::vector<std::uint8_t>& bytes) {
    fs::path temporary = path;
    temporary += ".tmp-imgbus";
    {
        std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
        file.write(reinterpret_cast<const char*>(bytes.data()),
                   static_cast<std::streamsize>(bytes.size()));
        if (!file.good()) {
            std::error_code ignored;
            fs::remove(temporary, ignored);
            fail(path.string() +
                 ": cannot write the output file; check that its folder exists "
                 "and is writable");
        }
    }
    std::error_code error;
    fs::rename(temporary, path, error);
    if (error) {
        fs::remove(temporary, error);
        fail(path.string() + ": cannot write: " + error.message());
    }
}

// The output format from OUT's extension; without one, the input's format.
imaging::Format output_format(const fs::path& path, imaging::Format input_format) {
    std::string extension = path.extension().string();
    for (auto& c : extension) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (extension.empty()) {
        return input_format;
    }
    if (extension == ".jpg" || extension == ".jpeg") {
        return imaging::Format::jpeg;
    }
    if (extension == ".png") {
        return imaging::Format::png;
    }
    fail(path.string() + ": unknown output extension '" + extension + "'; use .jpg, .jpeg or .png");
}

std::map<std::string, std::string> parse_params(const std::vector<std::string>& params) {
    std::map<std::string, std::string> raw;
    for (const auto& param : params) {
        const auto equals = param.find('=');
        if (equals == std::string::npos || equals == 0) {
            fail("--param '" + param + "' is not NAME=VALUE, for example --param sigma=2");
        }
        raw[param.substr(0, equals)] = param.substr(equals + 1);
    }
    return raw;
}

double milliseconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
        .count();
}

// The steps of --op (one operation or a pipeline), with --param values for a single operation.
std::vector<imaging::ValidatedStep> validated_steps(const ProcessOptions& options) {
    auto steps = imaging::parse_pipeline(options.operation);
    if (!steps) {
        fail("--op: " + steps.error().message);
    }
    const auto params = parse_params(options.params);
    if (!params.empty() && steps->size() > 1) {
        fail(
            "--param works with one operation; with several steps put each parameter in its "
            "step, as in --op resize:width=800,sharpen:amount=1.5");
    }
    for (const auto& [name, value] : params) {
        if (!steps->front().params.emplace(name, value).second) {
            fail("parameter '" + name + "' is given in --op and in --param; give it once");
        }
    }
    auto validated = imaging::OperationRegistry::global().validate_pipeline(*steps);
    if (!validated) {
        fail(validated.error().message);
    }
    return std::move(*validated);
}

void run_process(const ProcessOptions& options) {
    const auto steps = validated_steps(options);
    const auto bytes = read_input(options.input);

    imaging::DecodeLimits limits;
    limits.max_pixels = options.max_pixels;
    auto info = imaging::probe(bytes, limits);
    if (!info) {
        fail(options.input + ": " + info.error().message);
    }
    const imaging::Format format = output_format(options.output, info->format);

    auto start = std::chrono::steady_clock::now();
    auto image = imaging::decode(bytes, limits);
    if (!image) {
        fail(options.input + ": " + image.error().message);
    }
    const double decode_ms = milliseconds_since(start);

    start = std::chrono::steady_clock::now();
    std::vector<std::pair<std::string, double>> step_ms;
    auto result =
        imaging::run_pipeline(steps, std::move(*image),
                              {.threads = options.threads,
                               .passes = options.passes,
                               .max_output_pixels = limits.max_pixels},
                              [&step_ms](const imaging::Operation& operation, double seconds) {
                                  step_ms.emplace_back(operation.name, seconds * 1e3);
                              });
    if (!result) {
        fail(result.error().message);
    }
    const double kernel_ms = milliseconds_since(start);

    start = std::chrono::steady_clock::now();
    imaging::EncodeOptions encode_options;
    encode_options.jpeg_quality = options.quality;
    auto encoded = imaging::encode(*result, format, encode_options);
    if (!encoded) {
        fail(options.output + ": " + encoded.error().message);
    }
    const double encode_ms = milliseconds_since(start);
    write_output(options.output, *encoded);

    std::printf("input   %s: %s %dx%d, channels %d, %zu bytes\n", options.input.c_str(),
                std::string(imaging::format_name(info->format)).c_str(), info->width, info->height,
                info->channels, bytes.size());
    std::printf("decode  %10.3f ms\n", decode_ms);
    std::printf("kernel  %10.3f ms  (%s, threads %d, passes %d)\n", kernel_ms,
                options.operation.c_str(), options.threads, options.passes);
    if (step_ms.size() > 1) {
        for (const auto& [name, ms] : step_ms) {
            std::printf("  step  %10.3f ms  %s\n", ms, name.c_str());
        }
    }
    std::printf("encode  %10.3f ms\n", encode_ms);
    std::printf("output  %s: %s %dx%d, channels %d, %zu bytes\n", options.output.c_str(),
                std::string(imaging::format_name(format)).c_str(), result->width, result->height,
                result->channels, encoded->size());
}

std::string describe_param(const imaging::ParamSpec& spec) {
    char range[96];
    if (spec.type == imaging::ParamSpec::Type::choice) {
        std::string words;
        for (const auto& word : spec.choices) {
            words += (words.empty() ? "" : "|") + word;
        }
        const auto index = static_cast<std::size_t>(spec.default_value);
        return spec.name + "=" + words + " (default " +
               (index < spec.choices.size() ? spec.choices[index] : "") + "): " + spec.description;
    }
    std::snprintf(range, sizeof range, "%g..%g, default %g", spec.min_value, spec.max_value,
                  spec.default_value);
    return spec.name + " (" + range + "): " + spec.description;
}

std::string operation_help() {
    std::string help =
        "operation, or a pipeline of steps OP:NAME=VALUE separated by commas (for example "
        "resize:width=800,sharpen:amount=1.5,grayscale). Operations:";
    for (const auto* operation : imaging::OperationRegistry::global().list()) {
        help += "\n  " + operation->name + ": " + operation->description;
        for (const auto& spec : operation->params) {
            help += "\n      " + describe_param(spec);
        }
    }
    return help;
}

}  // namespace

void register_process(CLI::App& app) {
    auto options = std::make_shared<ProcessOptions>();
    auto* command = app.add_subcommand(
        "process", "Process one image locally, without a server, and print the time of each step");
    command->add_option("IN", options->input, "input image, JPEG or PNG")->required();
    command
        ->add_option("OUT", options->output,
                     "output image; .jpg, .jpeg or .png picks the format, no extension keeps the "
                     "input's")
        ->required();
    command->add_option("--op", options->operation, operation_help())->capture_default_str();
    command->add_option("--param", options->params,
                        "parameter of a single operation as NAME=VALUE; repeatable");
    command->add_option("--threads", options->threads, "OpenMP threads for the kernel")
        ->check(CLI::Range(1, 1024))
        ->capture_default_str();
    command->add_option("--passes", options->passes, "times the kernel runs over the image")
        ->check(CLI::Range(1, 10'000))
        ->capture_default_str();
    command->add_option("--quality", options->quality, "JPEG quality of the output, 1 to 100")
        ->check(CLI::Range(1, 100))
        ->capture_default_str();
    command
        ->add_option("--max-pixels", options->max_pixels,
                     "largest input accepted, in pixels (width times height)")
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 32))
        ->capture_default_str();
    command->callback([options] { run_process(*options); });
}

}  // namespace imgbus::cli
