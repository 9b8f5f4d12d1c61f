// SPDX-License-Identifier: MIT
#include "console.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <ctime>
#include <iostream>
#include <thread>

namespace imgbus::cli {
namespace {

std::atomic<bool> g_interrupted{false};
using SignalHandler = void (*)(int);
SignalHandler g_previous = SIG_DFL;

extern "C" void on_interrupt(int) { g_interrupted = true; }

std::string clock_text() {
    std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char text[16];
    std::strftime(text, sizeof text, "%H:%M:%S", &local);
    return text;
}

// Sleeps up to `seconds`, waking early on Ctrl-C; returns false when interrupted.
bool pause_for(double seconds) {
    auto until = std::chrono::steady_clock::now() +
                 std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                     std::chrono::duration<double>(seconds));
    while (std::chrono::steady_clock::now() < until) {
        if (InterruptGuard::interrupted()) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return !InterruptGuard::interrupted();
}

}  // namespace

bool interactive_terminal() { return ::isatty(STDIN_FILENO) && ::isatty(STDOUT_FILENO); }

Result<bool> confirm(const std::string& question) {
    if (!::isatty(STDIN_FILENO)) {
        return Error{std::make_error_code(std::errc::operation_canceled),
                     "refusing to purge without a confirmation, and standard input is not a "
                     "terminal to ask one; pass --yes"};
    }
    std::cout << question << " [y/N] " << std::flush;
    std::string answer;
    if (!std::getline(std::cin, answer)) return false;
    return answer == "y" || answer == "Y" || answer == "yes" || answer == "YES";
}

InterruptGuard::InterruptGuard() {
    g_interrupted = false;
    g_previous = std::signal(SIGINT, on_interrupt);
}

InterruptGuard::~InterruptGuard() { std::signal(SIGINT, g_previous); }

bool InterruptGuard::interrupted() { return g_interrupted; }

Result<void> refresh_loop(double interval_seconds, double duration_seconds,
                          const std::function<Result<std::string>()>& draw) {
    InterruptGuard guard;
    const bool terminal = ::isatty(STDOUT_FILENO);
    const auto start = std::chrono::steady_clock::now();
    for (;;) {
        auto frame = draw();
        if (!frame) return frame.error();
        if (terminal) std::cout << "\x1b[H\x1b[2J";  // cursor home, clear the screen
        std::cout << clock_text() << "  (every " << interval_seconds << " s"
                  << (terminal ? ", Ctrl-C to stop)" : ")") << "\n"
                  << *frame << (terminal ? "" : "\n") << std::flush;
        double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (duration_seconds > 0 && elapsed + interval_seconds > duration_seconds) return {};
        if (!pause_for(interval_seconds)) return {};
    }
}

}  // namespace imgbus::cli
