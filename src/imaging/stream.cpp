// SPDX-License-Identifier: MIT
// The choice of a job's path: streaming JPEG to gray JPEG, or decode, kernel and encode of the
// whole image.
#include "imgbus/imaging/stream.hpp"

#include <string>

namespace imgbus::imaging {

std::string_view kernel_path_name(KernelPath path) {
    switch (path) {
        case KernelPath::stream:
            return "stream";
        case KernelPath::luma_stream:
            return "luma-stream";
        case KernelPath::whole_image:
            break;
    }
    return "whole-image";
}

Result<PathChoice> parse_path_choice(std::string_view text) {
    for (auto choice : {PathChoice::automatic, PathChoice::stream, PathChoice::whole_image}) {
        if (text == path_choice_name(choice)) {
            return choice;
        }
    }
    return make_error(Errc::invalid_argument, "path '" + std::string(text.substr(0, 64)) +
                                                  "' is not one of auto, stream, whole-image");
}

std::string_view path_choice_name(PathChoice choice) {
    switch (choice) {
        case PathChoice::stream:
            return "stream";
        case PathChoice::whole_image:
            return "whole-image";
        case PathChoice::automatic:
            break;
    }
    return "auto";
}

KernelPath choose_path(PathChoice choice, const std::vector<ValidatedStep>& steps, int passes,
                       const ImageInfo& input, Format output) {
    const bool streamable = choice != PathChoice::whole_image && steps.size() == 1 &&
                            steps.front().operation != nullptr &&
                            steps.front().operation->name == "grayscale" && passes == 1 &&
                            input.format == Format::jpeg && input.orientation == 1 &&
                            output == Format::jpeg;
    if (!streamable) {
        return KernelPath::whole_image;
    }
    return choice == PathChoice::stream ? KernelPath::stream : KernelPath::luma_stream;
}

}  // namespace imgbus::imaging
