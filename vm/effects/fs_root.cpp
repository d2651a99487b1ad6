#include "vm/effects/fs_root.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <vector>

#include "vm/effects/adapter_text.h"

namespace ved::vm {

namespace {

// Linux gives up after 40 symlinks in one lookup (ELOOP); the walk does the same.
constexpr int kMaxSymlinks = 40;

std::vector<std::string> split_components(std::string_view path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) out.emplace_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

// Paths are kept as strings of canonical form ("/a/b", "/" for the root directory of the
// system) so that joining and climbing are exact string operations.
std::string join(const std::string& dir, const std::string& name) { return dir == "/" ? "/" + name : dir + "/" + name; }

std::string parent_of(const std::string& p) {
  const size_t slash = p.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : p.substr(0, slash);
}

struct Walker {
  explicit Walker(const FsRoot& root) : fs(root) {}

  const FsRoot& fs;
  int links_left = kMaxSymlinks;
  std::string why;   // why the path is refused, for the message
  std::string code;  // the refusal's code

  bool inside(const std::string& p) const { return fs.contains(std::filesystem::path(p)); }

  bool fail(std::string c, std::string reason) {
    code = std::move(c);
    why = std::move(reason);
    return false;
  }

  // Walks `components` from the canonical directory `current`, leaving the canonical
  // result in `current`. `entry` (when not null) gets the entry the last component names,
  // a final symlink not followed.
  bool walk(std::string& current, const std::vector<std::string>& components, std::string* entry) {
    for (size_t k = 0; k < components.size(); ++k) {
      const std::string& name = components[k];
      const bool last = k + 1 == components.size();
      if (name == ".") {
        if (last && entry) *entry = current;
        continue;
      }
      if (name == "..") {
        std::string up = parent_of(current);
        if (inside(current) && !inside(up)) return fail("permission", "`..` climbs above the root");
        current = std::move(up);
        if (last && entry) *entry = current;
        continue;
      }
      std::string candidate = join(current, name);
      struct stat st;
      if (::lstat(candidate.c_str(), &st) != 0) {
        const int error = errno;
        // Missing (or under a non-directory): taken as written; nothing there can be a
        // symlink, and the operation itself reports what is wrong.
        if (error != ENOENT && error != ENOTDIR) return fail("io", "cannot look at `" + candidate + "`: " + errno_text(error));
        current = std::move(candidate);
        if (last && entry) *entry = current;
        continue;
      }
      if (!S_ISLNK(st.st_mode)) {
        current = std::move(candidate);
        if (last && entry) *entry = current;
        continue;
      }
      if (links_left-- <= 0) return fail("io", "too many levels of symbolic links at `" + candidate + "`");
      std::string target;
      if (!read_link(candidate, target)) return false;
      std::string resolved = target.starts_with("/") ? "/" : current;
      const bool link_inside = inside(candidate);
      if (!walk(resolved, split_components(target), nullptr)) {
        // A climb refused inside the target is the symlink's doing: say so.
        if (code == "permission" && link_inside) why = "the symlink `" + candidate + "` leads outside the root";
        return false;
      }
      if (link_inside && !inside(resolved))
        return fail("permission", "the symlink `" + candidate + "` leads to `" + resolved + "`, outside the root");
      if (last && entry) *entry = candidate;
      current = std::move(resolved);
    }
    return true;
  }

  bool read_link(const std::string& link, std::string& target) {
    std::string buffer(256, '\0');
    for (;;) {
      const ssize_t n = ::readlink(link.c_str(), buffer.data(), buffer.size());
      if (n < 0) return fail("io", "cannot read the symlink `" + link + "`: " + errno_text(errno));
      if (static_cast<size_t>(n) < buffer.size()) {
        buffer.resize(static_cast<size_t>(n));
        target = std::move(buffer);
        return true;
      }
      buffer.resize(buffer.size() * 2);  // may have been cut: read again with more room
    }
  }
};

}  // namespace

FsRoot::FsRoot(const std::filesystem::path& root) {
  std::error_code ec;
  std::filesystem::path canonical = std::filesystem::canonical(root, ec);
  if (ec) throw std::runtime_error("the file-system root `" + root.string() + "` cannot be used: " + ec.message());
  if (!std::filesystem::is_directory(canonical, ec))
    throw std::runtime_error("the file-system root `" + root.string() + "` is not a directory");
  root_ = std::move(canonical);
}

bool FsRoot::contains(const std::filesystem::path& p) const {
  const std::string& r = root_.native();
  const std::string& s = p.native();
  if (r == "/") return !s.empty() && s[0] == '/';
  return s == r || (s.size() > r.size() && s.compare(0, r.size(), r) == 0 && s[r.size()] == '/');
}

bool FsRoot::resolve(std::string_view path, ResolvedPath& out, PathRefusal& refusal) const {
  const std::string shown = escape_line(path);
  if (path.empty()) {
    refusal = {"invalid", "the path is empty"};
    return false;
  }
  if (path.find('\0') != std::string_view::npos) {
    refusal = {"invalid", "the path `" + shown + "` contains a NUL character"};
    return false;
  }
  Walker walker(*this);
  std::string current = path[0] == '/' ? "/" : root_.native();
  std::string entry = current;
  if (!walker.walk(current, split_components(path), &entry)) {
    refusal.code = walker.code;
    // Symlink targets and the root are bytes from the file system: repaired, since the
    // message becomes a Ved string (EffectError.message).
    refusal.message = repair_utf8(walker.code == "permission" ? "the path `" + shown + "` escapes the file-system root `" +
                                                                    root_.native() + "`: " + walker.why
                                                              : "the path `" + shown + "`: " + walker.why);
    return false;
  }
  // The entry is checked too: an absolute path through a symlink outside the root that
  // points at the root would otherwise let a delete unlink that outside link.
  if (!contains(current) || !contains(entry)) {
    refusal.code = "permission";
    refusal.message = repair_utf8("the path `" + shown + "` escapes the file-system root `" + root_.native() +
                                  "`: it resolves to `" + (contains(current) ? entry : current) + "`");
    return false;
  }
  out.real = std::move(current);
  out.entry = std::move(entry);
  return true;
}

}  // namespace ved::vm
