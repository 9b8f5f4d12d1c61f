// SPDX-License-Identifier: MIT
// `imgbus process IN OUT`: decode one image, run one operation or a pipeline, encode the result,
// and print the time of each step. No server, queue or store is involved.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "commands.hpp"
#include "imgbus/imaging/codec.hpp"
#include "imgbus/imaging/operation.hpp"
#include "imgbus/imaging/stream.hpp"
#include "input_file.hpp"
#include "output_file.hpp"
#include "png_flags.hpp"
#include "remove_on_signal.hpp"

namespace imgbus::cli {
namespace {

namespace fs = std::filesystem;
namespace imaging = imgbus::imaging;

constexpr std::uint64_t kMaxInputBytes = 1ull << 30;

struct ProcessOptions {
    std::string input;
    std::string output;
    std::string operation = "grayscale";
    std::vector<std::string> params;  // NAME=VALUE
    int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    int passes = 1;
    int quality = 90;
    int png_level = imaging::EncodeOptions{}.png_compression;
    imaging::PngFilter png_filter = imaging::EncodeOptions{}.png_filter;
    std::string path = "auto";
    std::uint64_t max_pixels = imaging::DecodeLimits{}.max_pixels;
};

// Prints "imgbus process: MESSAGE" and ends the command with exit code 1.
[[noreturn]] void fail(const std::string& message) {
    std::fprintf(stderr, "imgbus process: %s\n", message.c_str());
    throw CLI::RuntimeError(1);
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

struct Timings {
    imaging::KernelPath path = imaging::KernelPath::whole_image;
    double decode_ms = 0;
    double kernel_ms = 0;
    double encode_ms = 0;
    double wall_ms = 0;  // decode to the last byte written to the output file
    std::vector<std::pair<std::string, double>> step_ms;
};

struct Converted {
    int width = 0;
    int height = 0;
    int channels = 0;
};

imaging::EncodeOptions encode_options(const ProcessOptions& options) {
    imaging::EncodeOptions encode;
    encode.jpeg_quality = options.quality;
    encode.png_compression = options.png_level;
    encode.png_filter = options.png_filter;
    return encode;
}

// Decodes all, runs the OpenMP kernels over the whole image, encodes all and writes it to
// `output`.
Converted convert_whole_image(const ProcessOptions& options,
                              const std::vector<imaging::ValidatedStep>& steps,
                              std::span<const std::uint8_t> bytes,
                              const imaging::DecodeLimits& limits, imaging::Format format,
                              OutputFile& output, Timings& timings) {
    auto start = std::chrono::steady_clock::now();
    auto image = imaging::decode(bytes, limits);
    if (!image) {
        fail(options.input + ": " + image.error().message);
    }
    timings.decode_ms = milliseconds_since(start);

    start = std::chrono::steady_clock::now();
    auto result =
        imaging::run_pipeline(steps, std::move(*image),
                              {.threads = options.threads,
                               .passes = options.passes,
                               .max_output_pixels = limits.max_pixels},
                              [&timings](const imaging::Operation& operation, double seconds) {
                                  timings.step_ms.emplace_back(operation.name, seconds * 1e3);
                              });
    if (!result) {
        fail(result.error().message);
    }
    timings.kernel_ms = milliseconds_since(start);

    start = std::chrono::steady_clock::now();
    auto encoded = imaging::encode(*result, format, encode_options(options));
    if (!encoded) {
        fail(options.output + ": " + encoded.error().message);
    }
    timings.encode_ms = milliseconds_since(start);
    if (auto written = output.write(*encoded); !written) {
        fail(options.output + ": " + written.error().message);
    }
    return {result->width, result->height, result->channels};
}

// Decodes strips of rows and encodes them on a second thread as they come, straight into
// `output`.
Converted convert_streaming(const ProcessOptions& options, std::span<const std::uint8_t> bytes,
                            const imaging::DecodeLimits& limits, OutputFile& output,
                            Timings& timings) {
    imaging::StreamOptions stream;
    stream.jpeg_quality = options.quality;
    stream.luma = timings.path == imaging::KernelPath::luma_stream;
    auto result = imaging::stream_grayscale_jpeg(bytes, limits, stream, output);
    if (!result) {
        const auto& side =
            result.error().code == imaging::Errc::encode_failed ? options.output : options.input;
        fail(side + ": " + result.error().message);
    }
    timings.path = result->path;
    timings.decode_ms = result->decode_seconds * 1e3;
    timings.kernel_ms = result->kernel_seconds * 1e3;
    timings.encode_ms = result->encode_seconds * 1e3;
    return {result->width, result->height, 1};
}

void print_timings(const ProcessOptions& options, const Timings& timings) {
    const bool streamed = timings.path != imaging::KernelPath::whole_image;
    std::printf("path    %s\n", std::string(imaging::kernel_path_name(timings.path)).c_str());
    std::printf("decode  %10.3f ms%s\n", timings.decode_ms,
                streamed ? "  (busy time; decode and encode overlap)" : "");
    if (streamed) {
        std::printf("kernel  %10.3f ms  (%s per strip, on the encoder thread)\n", timings.kernel_ms,
                    options.operation.c_str());
    } else {
        std::printf("kernel  %10.3f ms  (%s, threads %d, passes %d)\n", timings.kernel_ms,
                    options.operation.c_str(), options.threads, options.passes);
    }
    if (timings.step_ms.size() > 1) {
        for (const auto& [name, ms] : timings.step_ms) {
            std::printf("  step  %10.3f ms  %s\n", ms, name.c_str());
        }
    }
    std::printf("encode  %10.3f ms%s\n", timings.encode_ms, streamed ? "  (busy time)" : "");
    std::printf("total   %10.3f ms  (decode to the written output, wall time)\n", timings.wall_ms);
}

// Sends the report to standard error when OUT is the same file as standard output (OUT
// /dev/stdout, or a pipe reached through /dev/fd/1), so that the text does not follow the image.
void keep_report_off_output(const std::string& output) {
    struct stat out_status {};
    struct stat stdout_status {};
    if (::stat(output.c_str(), &out_status) != 0 || ::fstat(STDOUT_FILENO, &stdout_status) != 0) {
        return;
    }
    if (out_status.st_dev == stdout_status.st_dev && out_status.st_ino == stdout_status.st_ino) {
        std::fflush(stdout);
        ::dup2(STDERR_FILENO, STDOUT_FILENO);
    }
}

void run_process(const ProcessOptions& options) {
    // Past `ulimit -f`, write(2) then fails with EFBIG and the error path removes the temporary
    // file. SIGXFSZ's default action would end the process and leave the file behind.
    std::signal(SIGXFSZ, SIG_IGN);
    const auto steps = validated_steps(options);
    const auto choice = imaging::parse_path_choice(options.path);
    if (!choice) {
        fail("--path: " + choice.error().message);
    }
    auto input = read_input_file(options.input, kMaxInputBytes);
    if (!input) {
        fail(input.error().message);
    }
    const auto bytes = input->bytes();

    imaging::DecodeLimits limits;
    limits.max_pixels = options.max_pixels;
    auto info = imaging::probe(bytes, limits);
    if (!info) {
        fail(options.input + ": " + info.error().message);
    }
    const imaging::Format format = output_format(options.output, info->format);
    auto output = OutputFile::create(options.output);
    if (!output) {
        fail(output.error().message);
    }
    if (!(*output)->temporary_path().empty()) {
        remove_on_signal((*output)->temporary_path());
    }

    Timings timings;
    timings.path = imaging::choose_path(*choice, steps, options.passes, *info, format);
    const auto start = std::chrono::steady_clock::now();
    const Converted result =
        timings.path == imaging::KernelPath::whole_image
            ? convert_whole_image(options, steps, bytes, limits, format, **output, timings)
            : convert_streaming(options, bytes, limits, **output, timings);
    timings.wall_ms = milliseconds_since(start);
    auto committed = (*output)->commit();
    forget_on_signal();
    if (!committed) {
        fail(committed.error().message);
    }
    keep_report_off_output(options.output);

    std::printf("input   %s: %s %dx%d, channels %d, %zu bytes\n", options.input.c_str(),
                std::string(imaging::format_name(info->format)).c_str(), info->width, info->height,
                info->channels, bytes.size());
    print_timings(options, timings);
    std::printf("output  %s: %s %dx%d, channels %d, %zu bytes\n", options.output.c_str(),
                std::string(imaging::format_name(format)).c_str(), result.width, result.height,
                result.channels, static_cast<std::size_t>((*output)->bytes_written()));
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
        ->add_option("--path", options->path,
                     "auto: stream a JPEG to gray JPEG conversion (decoding straight to luma where "
                     "the file is YCbCr) when the job allows it; stream: stream but decode to RGB "
                     "and run the kernel; whole-image: always decode all, run the OpenMP kernel, "
                     "encode all (what --threads measures)")
        ->check(CLI::IsMember({"auto", "stream", "whole-image"}))
        ->capture_default_str();
    add_png_options(*command, options->png_level, options->png_filter);
    command
        ->add_option("--max-pixels", options->max_pixels,
                     "largest input accepted, in pixels (width times height)")
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 32))
        ->capture_default_str();
    command->callback([options] { run_process(*options); });
}

}  // namespace imgbus::cli
