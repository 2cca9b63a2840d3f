// The limits on what a job file or petit.yaml may hold, checked as the YAML is read.
//
// Files come from people and from generators, and sometimes from an attacker: a one-byte file, a
// 600-byte nest of aliases or a megabyte-long name must cost a clear error, not the host. Every
// file goes through ReadYamlDocument/ParseYamlDocument (yaml_document.h), which refuses a file
// that breaks one of these with one error, "<file>:<line>:<column>: ...", at the place it broke.
// With them, no input of 1 MB or less takes more than a second or 100 MB to load. What the parser
// itself holds before it reports a node needs no limit of Petit's: libyaml decides whether a [ or
// { starts a mapping key within one line and 1,024 characters (a simple key's bounds in YAML 1.1),
// so it holds at most that much ahead of its last event, whatever the file. The README's
// "Job files" section lists them for users; keep the two in step.
//
// The generous side of each: the bench's largest job (1,000 tasks, 90,000 dependency edges, 780
// KB, about 99,000 nodes) loads within all of them, and so does one DAG of 100,000 tasks written
// as the bench writes its jobs (bench/load_growth.py: 5.9 MB, 800,241 nodes). A node of the
// loaded tree costs about 24 bytes (yaml_tree.h), so the most nodes are about 24 MB of tree.
#ifndef PETIT_HOST_CONFIG_YAML_LIMITS_H_
#define PETIT_HOST_CONFIG_YAML_LIMITS_H_

#include <cstddef>
#include <cstdint>

namespace petit::host {

// Bytes of one file.
inline constexpr size_t kMaxYamlFileBytes = 16 * 1024 * 1024;
// YAML documents (separated by ---) read from one file before giving up counting. A job file and
// petit.yaml each hold exactly one; the others are counted only to say how many there are.
inline constexpr size_t kMaxYamlDocuments = 64;
// Collections inside collections: `[[[...]]]` deeper than this is refused.
inline constexpr size_t kMaxYamlDepth = 64;
// Nodes (scalars, nulls, lists, mappings, alias uses) of one document as written.
inline constexpr size_t kMaxYamlNodes = 1'000'000;
// Nodes that aliases (`*name`) add: each use of an alias counts every node of what it stands for,
// aliases inside it included, so a nest of aliases that would expand to billions is refused at
// the alias that crosses this.
inline constexpr size_t kMaxYamlAliasNodes = 100'000;
// Bytes of scalar text that aliases add, counted the same way: one long value named by an anchor
// and used in every task would otherwise cost its length once per use.
inline constexpr size_t kMaxYamlAliasBytes = 4 * 1024 * 1024;
// Bytes of one scalar value (an inline script, a command, a config value).
inline constexpr size_t kMaxYamlScalarBytes = 64 * 1024;
// Bytes of one mapping key (a field name, a config or environment key).
inline constexpr size_t kMaxYamlKeyBytes = 1024;
// Entries of one mapping and items of one list.
inline constexpr size_t kMaxYamlMapEntries = 10'000;
inline constexpr size_t kMaxYamlListItems = 200'000;
// Tasks of one job (checked by the job parser on `tasks`; below kMaxYamlListItems, so that a
// longer list of tasks is refused by this limit, which names tasks).
inline constexpr size_t kMaxTasksPerJob = 100'000;

}  // namespace petit::host

#endif  // PETIT_HOST_CONFIG_YAML_LIMITS_H_
