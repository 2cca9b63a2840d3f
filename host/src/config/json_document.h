// ParseStrictJson: the YamlTree of a plain JSON text without a YAML parser, for what plugins
// declare as JSON (a task type's parameter schema), which the host reads at every start: yaml-cpp's
// scanner (the parser before libyaml) spent about 1.5 million instructions on the command plugin's
// 1.3 KB schema, as much as the rest of a one-task `petit trigger`'s loading together.
//
// The promise is that the tree is the one ParseYamlDocument (yaml_document.h) builds from the same
// text, node for node: the same types, tags ("?" for plain scalars and collections, "!" for
// strings), scalar texts and marks. So it only takes what it can read exactly as libyaml does:
// ASCII text without escapes in strings, no key twice in one object, within yaml_limits.h's depth,
// node, key and scalar limits. For anything else it returns nullopt, and the caller parses the text
// as YAML, which gives the tree or the errors and problems it always gave.
//
// Threads: reentrant.
#ifndef PETIT_HOST_CONFIG_JSON_DOCUMENT_H_
#define PETIT_HOST_CONFIG_JSON_DOCUMENT_H_

#include <optional>
#include <string_view>

#include "config/yaml_document.h"

namespace petit::host::internal {

// The document of `text` (errors and problems empty), or nullopt when `text` is not JSON of the
// subset above.
std::optional<YamlDocument> ParseStrictJson(std::string_view text);

}  // namespace petit::host::internal

#endif  // PETIT_HOST_CONFIG_JSON_DOCUMENT_H_
