#include "runtime/event_journal.h"

#include <algorithm>
#include <utility>

namespace petit::host {

bool EventFilter::Matches(const Event& event) const {
  if (job && event.job != *job) return false;
  if (run && event.run != *run) return false;
  return true;
}

EventJournal::EventJournal(EventBus& bus, size_t capacity)
    : bus_(bus), capacity_(std::max<size_t>(capacity, 1)) {
  {
    MutexLock lock(mu_);
    // Address space only: pages become resident as events fill the slots, so an idle daemon
    // does not hold the whole ring (1.7 MB at the default capacity).
    slots_.reserve(capacity_);
    // Drops before the journal existed are no loss to its readers.
    dropped_seen_ = bus_.dropped();
  }
  handler_ = bus_.Subscribe([this](const Event& event) { Append(event); });
}

EventJournal::~EventJournal() {
  bus_.Unsubscribe(handler_);
  Stop();
}

void EventJournal::Append(const Event& event) {
  // Copied outside the lock; under it only a swap, and the slot's previous strings are freed
  // after it is released.
  Event copy = event;
  if (copy.detail.size() > kMaxDetailBytes) {
    size_t cut = kMaxDetailBytes;
    // Back to the first byte of a UTF-8 sequence, so the cut leaves no partial character.
    while (cut > 0 && (static_cast<unsigned char>(copy.detail[cut]) & 0xC0) == 0x80) --cut;
    copy.detail.resize(cut);
    copy.detail += "...";
  }
  {
    MutexLock lock(mu_);
    ++newest_;
    if (slots_.size() < capacity_) slots_.emplace_back();
    Slot& slot = slots_[(newest_ - 1) % capacity_];
    slot.entry.id = newest_;
    std::swap(slot.entry.event, copy);
    slot.after_loss = event.dropped_before != dropped_seen_;
    dropped_seen_ = event.dropped_before;
  }
  cv_.SignalAll();
}

JournalPage EventJournal::Since(uint64_t after_id, const EventFilter& filter, size_t max) const {
  JournalPage page;
  MutexLock lock(mu_);
  page.newest_id = newest_;
  if (newest_ == 0) {
    page.gap = after_id > 0;
    return page;
  }
  page.oldest_id = newest_ >= capacity_ ? newest_ - capacity_ + 1 : 1;
  page.oldest_time_us = slots_[(page.oldest_id - 1) % capacity_].entry.event.time_us;
  uint64_t after = after_id;
  if (after > newest_ || after + 1 < page.oldest_id) {
    page.gap = true;
    after = page.oldest_id - 1;
  }
  page.next_after = after;
  const uint64_t last = std::min(newest_, after + kMaxScan);
  for (uint64_t id = after + 1; id <= last && page.events.size() < max; ++id) {
    const Slot& slot = slots_[(id - 1) % capacity_];
    if (slot.after_loss) page.gap = true;
    if (filter.Matches(slot.entry.event)) page.events.push_back(slot.entry);
    page.next_after = id;
  }
  return page;
}

bool EventJournal::Wait(uint64_t after_id, std::chrono::steady_clock::time_point deadline) const {
  MutexLock lock(mu_);
  while (!stopped_ && newest_ <= after_id) {
    if (cv_.WaitUntil(mu_, deadline)) break;
  }
  return newest_ > after_id;
}

void EventJournal::Stop() {
  {
    MutexLock lock(mu_);
    stopped_ = true;
  }
  cv_.SignalAll();
}

bool EventJournal::stopped() const {
  MutexLock lock(mu_);
  return stopped_;
}

uint64_t EventJournal::newest_id() const {
  MutexLock lock(mu_);
  return newest_;
}

}  // namespace petit::host
