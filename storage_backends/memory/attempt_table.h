// AttemptTable: the attempts of one run in MemoryStateStore, keyed by (task, attempt).
//
// A run of 100,000 tasks saves each attempt twice (running, then its end), so this is the memory
// store's hottest structure. Records live in chunks of 16, 32, 64, ... records (their addresses
// never change, growing moves none, and a one-task run allocates little); the index is open
// addressing over (hash, record number) pairs, so a lookup reads one slot and the record it names,
// and growing the index rehashes nothing (a node map walked and rehashed its nodes, each a cache
// miss, and allocated one per attempt).
//
// The stored records leave `run` empty: every record of a table belongs to the same run, which the
// caller knows, so a 36-character run id is neither copied nor kept per attempt.
//
// Threads: none of its own; MemoryStateStore calls it under its mutex.
#ifndef PETIT_STORAGE_MEMORY_ATTEMPT_TABLE_H_
#define PETIT_STORAGE_MEMORY_ATTEMPT_TABLE_H_

#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "petit/core/ids.h"
#include "petit/core/state_store.h"

namespace petit::storage::internal {

class AttemptTable {
 public:
  AttemptTable() = default;
  AttemptTable(AttemptTable&&) = default;
  AttemptTable& operator=(AttemptTable&&) = default;

  // The stored record of (task, attempt), inserted (default-constructed but for its key) if
  // absent. The reference stays valid as long as the table.
  AttemptRecord& FindOrInsert(const TaskId& task, uint32_t attempt);

  size_t size() const { return size_; }

  // Every stored record, in insertion order (their `run` is empty).
  template <typename Fn>
  void ForEach(Fn&& fn) {
    for (size_t i = 0; i < size_; ++i) fn(Record(i));
  }
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (size_t i = 0; i < size_; ++i) fn(Record(i));
  }

 private:
  static constexpr size_t kFirstChunkShift = 4;  // chunk k holds 16 << k records
  static constexpr size_t kMinSlots = 16;

  // `record` is the record's number + 1; 0 marks a free slot. `hash`: the key's hash, whose low
  // bits place the slot. 8 bytes, so the index of 100,000 attempts is 2 MB.
  struct Slot {
    uint32_t hash = 0;
    uint32_t record = 0;
  };

  static uint32_t Hash(const TaskId& task, uint32_t attempt);
  // Record i is in chunk k = bit_width(i / 16 + 1) - 1, after the 16 * (2^k - 1) records of the
  // chunks before it.
  static std::pair<size_t, size_t> Place(size_t i) {
    const size_t k = static_cast<size_t>(std::bit_width((i >> kFirstChunkShift) + 1)) - 1;
    return {k, i - (((size_t{1} << k) - 1) << kFirstChunkShift)};
  }
  AttemptRecord& Record(size_t i) {
    const auto [chunk, offset] = Place(i);
    return chunks_[chunk][offset];
  }
  const AttemptRecord& Record(size_t i) const {
    const auto [chunk, offset] = Place(i);
    return chunks_[chunk][offset];
  }
  // Doubles the index (the hashes are stored, so no key is read again).
  void Grow();

  std::vector<std::unique_ptr<AttemptRecord[]>> chunks_;
  std::vector<Slot> slots_;  // a power of two in size, at most half full
  size_t size_ = 0;
};

}  // namespace petit::storage::internal

#endif  // PETIT_STORAGE_MEMORY_ATTEMPT_TABLE_H_
