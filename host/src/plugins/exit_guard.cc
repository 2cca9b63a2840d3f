#include "plugins/exit_guard.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "petit/host/exit_codes.h"

namespace petit::host {
namespace {

// One per thread that ever ran an in-process attempt, reused once the thread ends, so their
// number is that of the threads alive at once, not of those ever started.
struct Slot {
  std::atomic<const AttemptRequest*> current{nullptr};
  bool in_use = true;  // guarded by g_mu
};

std::mutex g_mu;
// Reachable for ever (never freed: the handlers may read it during exit).
std::vector<Slot*>* const g_slots = new std::vector<Slot*>();
std::atomic<bool> g_orderly{false};
std::atomic<bool> g_installed{false};

struct ThreadSlot {
  Slot* slot = nullptr;
  ThreadSlot() {
    std::lock_guard<std::mutex> lock(g_mu);
    for (Slot* free : *g_slots) {
      if (!free->in_use) {
        free->in_use = true;
        slot = free;
        return;
      }
    }
    slot = new Slot();
    g_slots->push_back(slot);
  }
  // exit() destroys the calling thread's thread_locals before it runs the handlers: a slot whose
  // attempt is still running is kept as it is, for them to read.
  ~ThreadSlot() {
    if (slot->current.load(std::memory_order_acquire) != nullptr) return;
    std::lock_guard<std::mutex> lock(g_mu);
    slot->in_use = false;
  }
};

thread_local ThreadSlot t_slot;

void OnExit() {
  if (g_orderly.load(std::memory_order_acquire)) return;
  std::string running;
  {
    // try_lock: the thread calling exit() may be one that was starting or ending an attempt.
    std::unique_lock<std::mutex> lock(g_mu, std::try_to_lock);
    for (const Slot* slot : *g_slots) {
      const AttemptRequest* request = slot->current.load(std::memory_order_acquire);
      if (request == nullptr) continue;
      if (!running.empty()) running += "; ";
      running += "task '" + request->task.str() + "' (type '" + request->type + "', attempt " +
                 std::to_string(request->attempt) + ") of run " + request->run.str() + " of job '" +
                 request->job.str() + "'";
    }
  }
  const std::string line = "petit: exit() was called by a plugin, not by petit, while running " +
                           (running.empty() ? std::string("no plugin task") : running) +
                           "; exiting with status " + std::to_string(kExitHostError) +
                           " so that a service manager restarts petit\n";
  (void)!::write(STDERR_FILENO, line.data(), line.size());
  ::_exit(kExitHostError);
}

}  // namespace

void InstallPluginExitGuard() {
  if (g_installed.exchange(true)) return;
  std::atexit(&OnExit);
  std::at_quick_exit(&OnExit);
}

void MarkOrderlyExit() { g_orderly.store(true, std::memory_order_release); }

RunningAttempt::RunningAttempt(const AttemptRequest& request) {
  t_slot.slot->current.store(&request, std::memory_order_release);
}

RunningAttempt::~RunningAttempt() {
  t_slot.slot->current.store(nullptr, std::memory_order_release);
}

}  // namespace petit::host
