#include "executor/worker_pool.h"

#include <utility>

#include "executor/spin.h"

namespace petit::internal {

namespace {
std::atomic<size_t> g_abandoned{0};
}  // namespace

size_t AbandonedWorkerThreadCount() { return g_abandoned.load(std::memory_order_relaxed); }

void WorkerPool::Start(uint32_t threads) {
  workers_.reserve(threads);
  for (uint32_t i = 0; i < threads; ++i) StartWorker();
}

void WorkerPool::StartWorker() {
  auto state = std::make_shared<WorkerState>();
  workers_.push_back(Worker{std::thread([this, state] { WorkerLoop(state); }), state});
}

bool WorkerPool::Abandon(Dag::Index index, uint32_t attempt) {
  for (auto it = workers_.begin(); it != workers_.end(); ++it) {
    WorkerState& state = *it->state;
    {
      // Under mu_, so the worker cannot take its next item between the check and the exchange.
      MutexLock lock(mu_);
      if (state.index != index || state.attempt != attempt) continue;
      int running = WorkerState::kRunning;
      if (!state.phase.compare_exchange_strong(running, WorkerState::kAbandoned,
                                               std::memory_order_acq_rel)) {
        return false;  // it returned just now; its completion follows
      }
    }
    it->thread.detach();
    workers_.erase(it);
    g_abandoned.fetch_add(1, std::memory_order_relaxed);
    StartWorker();
    return true;
  }
  return false;
}

void WorkerPool::Submit(std::vector<WorkItem>& items) {
  const size_t count = items.size();
  if (count == 0) return;
  {
    MutexLock lock(mu_);
    for (WorkItem& item : items) work_.push_back(std::move(item));
    pending_work_.fetch_add(count, std::memory_order_release);
  }
  items.clear();
  if (count == 1) {
    work_cv_.Signal();
  } else {
    work_cv_.SignalAll();
  }
}

void WorkerPool::Stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  work_cv_.SignalAll();
  for (Worker& worker : workers_) worker.thread.join();
  workers_.clear();
}

void WorkerPool::WorkerLoop(const std::shared_ptr<WorkerState>& state) {
  for (;;) {
    WorkItem item;
    {
      SpinFor([this] { return pending_work_.load(std::memory_order_acquire) != 0; });
      MutexLock lock(mu_);
      while (!stopping_ && work_.empty()) work_cv_.Wait(mu_);
      if (work_.empty()) return;
      pending_work_.fetch_sub(1, std::memory_order_relaxed);
      item = std::move(work_.front());
      work_.pop_front();
      state->index = item.index;
      state->attempt = item.request.attempt;
      state->phase.store(WorkerState::kRunning, std::memory_order_release);
    }
    int64_t started_us = clock_.NowMicros();
    AttemptResult result = item.runner->Run(item.request, *item.control);
    int running = WorkerState::kRunning;
    if (!state->phase.compare_exchange_strong(running, WorkerState::kIdle,
                                              std::memory_order_acq_rel)) {
      return;  // abandoned: the run has moved on and may be gone; touch nothing of it
    }
    Status storage_status = item.control->Finish();
    inbox_.PostCompletion(Completion{item.index, item.request.attempt, std::move(result),
                                     std::move(storage_status), item.control->TakeUnwritten(),
                                     started_us, clock_.NowMicros()});
  }
}

}  // namespace petit::internal
