// SPDX-License-Identifier: MIT
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>
#include <type_traits>

namespace imgbus::http {

// Runs `work` on `pool` and resumes the calling coroutine on its own executor with the result,
// so that file writes and fsyncs never stall an I/O thread and the other connections it serves.
// An exception thrown by `work` is rethrown in the caller.
template <class Work>
boost::asio::awaitable<std::invoke_result_t<Work&>> run_blocking(boost::asio::thread_pool& pool,
                                                                 Work work) {
    std::optional<std::invoke_result_t<Work&>> result;
    co_await boost::asio::co_spawn(
        pool,
        [&]() -> boost::asio::awaitable<void> {
            result.emplace(work());
            co_return;
        },
        boost::asio::use_awaitable);
    co_return std::move(*result);
}

}  // namespace imgbus::http
