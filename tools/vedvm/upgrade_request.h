// Upgrading a data dir that a `vedvm --serve` process holds (docs/upgrades.md): the
// data dir's lock keeps every other process out of its database, so `vedvm upgrade`
// leaves the new bundle beside it as a request, and the serving process takes it at its
// next tick boundary, upgrades the data dir itself, and leaves the verdict as a result.
// Both files are written whole under a temporary name and renamed, so that neither side
// reads half of one.
#pragma once

#include <string>

#include "vm/runtime/data_dir_upgrade.h"

namespace vedvm {

// What an upgrade did, for people: `upgraded DIR from `app` (hash …) to `app` (hash …)
// at tick N: K instances, M migrated`.
std::string describe_upgrade(const std::string& data_dir, const ved::vm::DataDirUpgrade& done);

// `<dir>/upgrade-request.vedb` and `<dir>/upgrade-result`.
std::string upgrade_request_path(const std::string& data_dir);
std::string upgrade_result_path(const std::string& data_dir);

// Writes `bytes` to `path` atomically (a temporary file renamed over it). False with
// `error`.
bool write_whole_file(const std::string& path, const std::string& bytes, std::string& error);
// Reads a whole file; false when it is not there or cannot be read.
bool read_whole_file(const std::string& path, std::string& bytes);

// The verdict as the result file holds it: `ok` or `refused`, a line break, the text.
std::string encode_upgrade_result(bool ok, const std::string& text);
bool decode_upgrade_result(const std::string& bytes, bool& ok, std::string& text);

}  // namespace vedvm
