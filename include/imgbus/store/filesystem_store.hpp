// SPDX-License-Identifier: MIT
#pragma once

#include <filesystem>
#include <memory>

#include "imgbus/store/object_store.hpp"

namespace imgbus::store {

struct FilesystemStoreOptions {
    std::uint64_t max_object_bytes = 5ULL << 30;
    bool fsync = true;  // fsync each object before its rename (turn off only in tests)
    // Whether a thread at idle priority computes deferred ETags (PutOptions::defer_etag) once puts
    // pause for 250 ms. When false, only reads compute them.
    bool backfill_etags = true;
};

// Opens (creating if needed) a store rooted at `root`. Object files are named by a hash of the
// key, so no key can name a path outside `root`. Opening rebuilds the index from the object
// headers and deletes temporary files left by an interrupted write. Throws std::system_error
// naming the path when `root` cannot be created or read. The on-disk format is described in
// docs/store.md.
std::unique_ptr<ObjectStore> open_filesystem_store(const std::filesystem::path& root,
                                                   const FilesystemStoreOptions& options = {});

}  // namespace imgbus::store
