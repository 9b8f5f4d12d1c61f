// SPDX-License-Identifier: MIT
#include "remove_on_signal.hpp"

#include <limits.h>
#include <unistd.h>

#include <csignal>
#include <cstring>

namespace imgbus::cli {
namespace {

// Stored before the handlers are installed; the handler only reads it.
char stored_path[PATH_MAX] = {};
volatile std::sig_atomic_t armed = 0;

constexpr int handled[] = {SIGINT, SIGTERM, SIGHUP};

extern "C" void unlink_and_reraise(int signal) {
    if (armed != 0) {
        ::unlink(stored_path);  // async-signal-safe
    }
    // SA_RESETHAND restored the default action, which ends the process once this returns.
    ::raise(signal);
}

}  // namespace

void remove_on_signal(const std::filesystem::path& path) {
    const auto& text = path.native();
    if (text.size() >= sizeof stored_path) {
        return;  // NOTE: too long to store, so a signal leaves the file behind
    }
    armed = 0;
    std::memcpy(stored_path, text.c_str(), text.size() + 1);
    armed = 1;
    struct sigaction action {};
    action.sa_handler = unlink_and_reraise;
    action.sa_flags = SA_RESETHAND;
    sigemptyset(&action.sa_mask);
    for (const int signal : handled) {
        sigaction(signal, &action, nullptr);
    }
}

void forget_on_signal() { armed = 0; }

}  // namespace imgbus::cli
