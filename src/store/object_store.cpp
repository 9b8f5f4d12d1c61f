// SPDX-License-Identifier: MIT
#include "imgbus/store/object_store.hpp"

#include <algorithm>
#include <cstring>

namespace imgbus::store {

namespace {

// Serves reads from an object loaded whole, for stores without a cheaper way to read pieces.
class MemoryObjectReader final : public ObjectReader {
  public:
    explicit MemoryObjectReader(Object object) : object_(std::move(object)) {}

    const ObjectInfo& info() const override { return object_.info; }

    Result<std::size_t> read(std::uint64_t offset, std::span<std::uint8_t> buffer) override {
        if (offset >= object_.data.size()) {
            return std::size_t{0};
        }
        std::size_t count = std::min<std::uint64_t>(buffer.size(), object_.data.size() - offset);
        std::memcpy(buffer.data(), object_.data.data() + offset, count);
        return count;
    }

  private:
    Object object_;
};

// Collects the content in memory and stores it with put_object on commit.
class MemoryObjectWriter final : public ObjectWriter {
  public:
    MemoryObjectWriter(ObjectStore& store, std::string bucket, std::string key, PutOptions options)
        : store_(store),
          bucket_(std::move(bucket)),
          key_(std::move(key)),
          options_(std::move(options)) {}

    Result<void> write(std::span<const std::uint8_t> data) override {
        data_.insert(data_.end(), data.begin(), data.end());
        return {};
    }

    Result<ObjectInfo> commit() override {
        return store_.put_object(bucket_, key_, data_, options_);
    }

  private:
    ObjectStore& store_;
    std::string bucket_;
    std::string key_;
    PutOptions options_;
    std::vector<std::uint8_t> data_;
};

}  // namespace

Result<std::unique_ptr<ObjectWriter>> ObjectStore::create_object(const std::string& bucket,
                                                                 const std::string& key,
                                                                 const PutOptions& options) {
    return std::unique_ptr<ObjectWriter>(new MemoryObjectWriter(*this, bucket, key, options));
}

Result<std::unique_ptr<ObjectReader>> ObjectStore::open_object(const std::string& bucket,
                                                               const std::string& key) {
    auto object = get_object(bucket, key);
    if (!object) {
        return object.error();
    }
    return std::unique_ptr<ObjectReader>(new MemoryObjectReader(std::move(*object)));
}

}  // namespace imgbus::store
