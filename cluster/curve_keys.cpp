#include "cluster/curve_keys.h"

#include <sys/stat.h>
#include <zmq.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace ved::cluster {

namespace fs = std::filesystem;

namespace {

bool read_key_file(const fs::path& path, std::string& key, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = "cannot read `" + path.string() + "`";
    return false;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  key = buffer.str();
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r' || key.back() == ' ')) key.pop_back();
  if (!is_z85_key(key)) {
    error = "`" + path.string() + "` does not hold a CURVE key (40 characters of Z85 text, as `vedvm keygen` writes)";
    return false;
  }
  return true;
}

bool write_file(const fs::path& path, const std::string& text, mode_t mode, std::string& error) {
  std::ofstream out(path, std::ios::trunc);
  out << text << "\n";
  out.close();
  if (!out || chmod(path.c_str(), mode) != 0) {
    error = "cannot write `" + path.string() + "`";
    return false;
  }
  return true;
}

}  // namespace

bool is_z85_key(const std::string& text) {
  static const std::string alphabet =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
  if (text.size() != 40) return false;
  for (char c : text)
    if (alphabet.find(c) == std::string::npos) return false;
  uint8_t decoded[32];
  return zmq_z85_decode(decoded, text.c_str()) != nullptr;
}

bool generate_key_pair(const std::string& dir, KeyPair& out, std::string& error) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    error = "cannot create `" + dir + "`: " + ec.message();
    return false;
  }
  const fs::path secret = fs::path(dir) / "secret.key", pub = fs::path(dir) / "public.key";
  if (fs::exists(secret) || fs::exists(pub)) {
    error = "`" + dir + "` already holds a key pair; refusing to overwrite it";
    return false;
  }
  char public_key[41], secret_key[41];
  if (zmq_curve_keypair(public_key, secret_key) != 0) {
    error = std::string("cannot make a CURVE key pair: ") + zmq_strerror(zmq_errno()) +
            " (libzmq built without libsodium?)";
    return false;
  }
  out.public_key = public_key;
  out.secret_key = secret_key;
  return write_file(secret, out.secret_key, 0600, error) && write_file(pub, out.public_key, 0644, error);
}

bool read_key_pair(const std::string& dir, KeyPair& out, std::string& error) {
  if (!read_key_file(fs::path(dir) / "secret.key", out.secret_key, error)) return false;
  if (!read_key_file(fs::path(dir) / "public.key", out.public_key, error)) return false;
  char derived[41];
  if (zmq_curve_public(derived, out.secret_key.c_str()) != 0 || out.public_key != derived) {
    error = "`" + dir + "/public.key` is not the public half of `" + dir + "/secret.key`";
    return false;
  }
  return true;
}

bool read_trusted_keys(const std::string& dir, std::set<std::string>& out, std::string& error) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    error = "--trust `" + dir + "` is not a directory";
    return false;
  }
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); ++it) {
    const fs::path& p = it->path();
    if (!it->is_regular_file()) continue;
    if (p.filename() != "public.key" && p.extension() != ".pub") continue;
    std::string key;
    if (!read_key_file(p, key, error)) return false;
    out.insert(key);
  }
  if (ec) {
    error = "cannot read --trust `" + dir + "`: " + ec.message();
    return false;
  }
  if (out.empty()) {
    error = "--trust `" + dir + "` holds no public key (`public.key` or `*.pub` files, in it or in its sub-folders)";
    return false;
  }
  return true;
}

}  // namespace ved::cluster
