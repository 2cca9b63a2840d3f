#include "runtime/log_pages.h"

namespace petit::host {
namespace {

constexpr size_t kChunksPerPage = 16;

}  // namespace

Status ForEachLogChunk(StateStore& store, const RunId& run, LogQuery query,
                       const std::function<void(const LogChunk&)>& each) {
  query.limit = kChunksPerPage;
  for (;;) {
    Result<std::vector<LogChunk>> chunks = store.ReadLogs(run, query);
    if (!chunks.ok()) return chunks.status();
    for (const LogChunk& chunk : *chunks) each(chunk);
    if (chunks->size() < query.limit) return Status::Ok();
    const LogChunk& last = chunks->back();
    query.after = LogQuery::Position{last.task, last.attempt, last.seq};
  }
}

}  // namespace petit::host
