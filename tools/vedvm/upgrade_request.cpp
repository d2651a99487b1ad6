#include "tools/vedvm/upgrade_request.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "vm/runtime/store.h"

namespace vedvm {

std::string describe_upgrade(const std::string& data_dir, const ved::vm::DataDirUpgrade& done) {
  return "upgraded `" + data_dir + "` " + ved::vm::describe(done);
}

std::string upgrade_request_path(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / "upgrade-request.vedb").string();
}

std::string upgrade_result_path(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / "upgrade-result").string();
}

bool write_whole_file(const std::string& path, const std::string& bytes, std::string& error) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      error = "cannot write `" + tmp + "`: " + std::strerror(errno);
      return false;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    error = "cannot rename `" + tmp + "` to `" + path + "`: " + ec.message();
    return false;
  }
  return true;
}

bool read_whole_file(const std::string& path, std::string& bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  bytes = s.str();
  return !in.bad();
}

std::string encode_upgrade_result(bool ok, const std::string& text) { return (ok ? "ok\n" : "refused\n") + text; }

bool decode_upgrade_result(const std::string& bytes, bool& ok, std::string& text) {
  const size_t eol = bytes.find('\n');
  if (eol == std::string::npos) return false;
  const std::string verdict = bytes.substr(0, eol);
  if (verdict != "ok" && verdict != "refused") return false;
  ok = verdict == "ok";
  text = bytes.substr(eol + 1);
  return true;
}

}  // namespace vedvm
