#include "memory/attempt_table.h"

#include <functional>
#include <string_view>

namespace petit::storage::internal {

uint32_t AttemptTable::Hash(const TaskId& task, uint32_t attempt) {
  const uint64_t h = std::hash<std::string_view>{}(task.str());
  // Mixed so that attempts of one task land apart, then folded to 32 bits (the index never holds
  // 2^32 slots: a record number is 32 bits too).
  const uint64_t mixed = h ^ (uint64_t{attempt} * 0x9E3779B97F4A7C15ULL);
  return static_cast<uint32_t>(mixed ^ (mixed >> 32));
}

void AttemptTable::Grow() {
  std::vector<Slot> grown(slots_.empty() ? kMinSlots : slots_.size() * 2);
  const size_t mask = grown.size() - 1;
  for (const Slot& slot : slots_) {
    if (slot.record == 0) continue;
    size_t at = slot.hash & mask;
    while (grown[at].record != 0) at = (at + 1) & mask;
    grown[at] = slot;
  }
  slots_.swap(grown);
}

AttemptRecord& AttemptTable::FindOrInsert(const TaskId& task, uint32_t attempt) {
  if ((size_ + 1) * 2 > slots_.size()) Grow();
  const uint32_t hash = Hash(task, attempt);
  const size_t mask = slots_.size() - 1;
  size_t at = hash & mask;
  for (; slots_[at].record != 0; at = (at + 1) & mask) {
    if (slots_[at].hash != hash) continue;
    AttemptRecord& record = Record(slots_[at].record - 1);
    if (record.attempt == attempt && record.task == task) return record;
  }
  const auto [chunk, offset] = Place(size_);
  if (chunk == chunks_.size()) {
    chunks_.push_back(std::make_unique<AttemptRecord[]>(size_t{1} << (kFirstChunkShift + chunk)));
  }
  AttemptRecord& record = chunks_[chunk][offset];
  record.task = task;
  record.attempt = attempt;
  slots_[at] = Slot{hash, static_cast<uint32_t>(++size_)};
  return record;
}

}  // namespace petit::storage::internal
