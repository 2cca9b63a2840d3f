// Reading captured output page by page, so that output of any size costs a few chunks of memory
// (what `petit logs`, `petit trigger` and later the API's log endpoint share).
//
// Threads: as thread-safe as the store it reads.
#ifndef PETIT_HOST_RUNTIME_LOG_PAGES_H_
#define PETIT_HOST_RUNTIME_LOG_PAGES_H_

#include <functional>

#include "petit/core/state_store.h"

namespace petit::host {

// Calls `each` with every chunk `query` selects, in order, reading a few chunks at a time; stops
// at the first store failure and returns it.
Status ForEachLogChunk(StateStore& store, const RunId& run, LogQuery query,
                       const std::function<void(const LogChunk&)>& each);

}  // namespace petit::host

#endif  // PETIT_HOST_RUNTIME_LOG_PAGES_H_
