#include "petit/core/events.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include "enum_names.h"

namespace petit {
namespace {

constexpr internal::EnumNames<EventType, 11> kEventTypeNames{{
    {EventType::kTaskQueued, "task_queued"},
    {EventType::kTaskStarted, "task_started"},
    {EventType::kTaskRetrying, "task_retrying"},
    {EventType::kTaskSucceeded, "task_succeeded"},
    {EventType::kTaskFailed, "task_failed"},
    {EventType::kTaskSkipped, "task_skipped"},
    {EventType::kTaskCancelled, "task_cancelled"},
    {EventType::kJobStarted, "job_started"},
    {EventType::kJobCompleted, "job_completed"},
    {EventType::kScheduleFired, "schedule_fired"},
    {EventType::kTriggerRefused, "trigger_refused"},
}};

}  // namespace

std::string_view EventTypeName(EventType type) { return internal::NameOf(kEventTypeNames, type); }

EventBus::EventBus(size_t queue_capacity)
    : capacity_(queue_capacity), handlers_(std::make_shared<const HandlerList>()) {
  assert(queue_capacity >= 1);
}

EventBus::~EventBus() {
  {
    MutexLock lock(mu_);
    if (!delivery_.joinable()) return;
    assert(!OnDeliveryThread() && "an EventBus must not be destroyed by one of its handlers");
    stopping_ = true;
  }
  work_cv_.Signal();
  delivery_.join();
}

bool EventBus::OnDeliveryThread() const { return std::this_thread::get_id() == delivery_id_; }

EventBus::HandlerId EventBus::Subscribe(Handler handler) {
  assert(handler && "EventBus::Subscribe needs a callable handler");
  MutexLock lock(mu_);
  if (!delivery_.joinable()) {
    // The thread blocks on mu_ until this Subscribe is done, so it never sees a half-made bus.
    delivery_ = std::thread([this] { DeliveryLoop(); });
    delivery_id_ = delivery_.get_id();
  }
  const HandlerId id = next_id_++;
  auto list = std::make_shared<HandlerList>(*handlers_);
  list->push_back(std::make_shared<Subscription>(id, std::move(handler), next_seq_));
  handlers_ = std::move(list);
  has_subscribers_.store(true, std::memory_order_release);
  return id;
}

void EventBus::Unsubscribe(HandlerId id) {
  // Declared before the lock so they are released after it: destroying a handler runs its
  // captures' destructors, which may call back into the bus.
  std::shared_ptr<Subscription> removed;
  std::shared_ptr<const HandlerList> old_list;
  MutexLock lock(mu_);
  const auto it = std::find_if(handlers_->begin(), handlers_->end(),
                               [id](const auto& subscription) { return subscription->id == id; });
  if (it == handlers_->end()) return;
  removed = *it;
  removed->active.store(false, std::memory_order_release);
  auto list = std::make_shared<HandlerList>(*handlers_);
  list->erase(list->begin() + (it - handlers_->begin()));
  has_subscribers_.store(!list->empty(), std::memory_order_release);
  old_list = std::exchange(handlers_, std::move(list));
  if (OnDeliveryThread() || !delivering_) return;
  // The event in delivery may have read `active` before it was cleared. The delivery thread drops
  // its snapshot of the handlers before it counts the event delivered, so once it has, `removed`
  // and `old_list` hold the last references and the handler dies here, on this thread.
  const uint64_t in_delivery = delivered_;
  while (delivered_ == in_delivery) done_cv_.Wait(mu_);
}

void EventBus::Enqueue(Event&& event) {
  bool wake = false;
  {
    MutexLock lock(mu_);
    if (queue_.size() >= capacity_) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    event.dropped_before = dropped_.load(std::memory_order_relaxed);
    queue_.push_back(std::move(event));
    ++next_seq_;
    // Only the first event after the thread went to sleep pays for a wake-up.
    wake = std::exchange(delivery_waiting_, false);
  }
  if (wake) work_cv_.Signal();
}

void EventBus::Flush() {
  MutexLock lock(mu_);
  assert(!OnDeliveryThread() && "EventBus::Flush must not be called from a handler");
  if (OnDeliveryThread()) return;
  const uint64_t target = next_seq_;
  while (delivered_ < target) done_cv_.Wait(mu_);
}

void EventBus::DeliveryLoop() {
  MutexLock lock(mu_);
  for (;;) {
    // delivery_waiting_ is set again before every wait, so a spurious wake-up loses no signal.
    while (queue_.empty() && !stopping_) {
      delivery_waiting_ = true;
      work_cv_.Wait(mu_);
    }
    delivery_waiting_ = false;
    if (queue_.empty()) return;  // stopping, and everything queued has been delivered

    const uint64_t seq = delivered_;
    {
      Event event = std::move(queue_.front());
      queue_.pop_front();
      std::shared_ptr<const HandlerList> handlers = handlers_;
      delivering_ = true;
      mu_.Unlock();
      for (const std::shared_ptr<Subscription>& subscription : *handlers) {
        if (seq < subscription->first_seq) continue;
        if (!subscription->active.load(std::memory_order_acquire)) continue;
        try {
          subscription->handler(event);
        } catch (...) {
          // The policy: a throwing handler is counted, never allowed to stop delivery.
          handler_errors_.fetch_add(1, std::memory_order_relaxed);
        }
      }
    }
    mu_.Lock();
    delivering_ = false;
    delivered_ = seq + 1;
    done_cv_.SignalAll();
  }
}

}  // namespace petit
