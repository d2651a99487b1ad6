// Confinement of the program's paths to the VM's file-system root (`--fs-root DIR`,
// runtime.md §7). File effects and file observations resolve every path through here
// and touch only what it returns.
//
// Rules (docs/adapters.md, "Built-in adapters"):
//  * A relative path resolves against the root; an absolute path is allowed when it
//    resolves inside the root.
//  * Every existing component is looked at (lstat) and every symlink is followed,
//    including the final one, and the result must be inside the root: a path that ends
//    outside is refused, whether it gets there by being absolute elsewhere, by `..` or by
//    a symlink.
//  * Once the walk is inside the root it may not leave it, even to come back: `..` that
//    climbs above the root, and a symlink inside the root whose target leads outside, are
//    refused even when later components would lead back in. So the program cannot probe
//    the outside through error differences.
//  * Components that do not exist yet are taken as they are written (a write may create
//    them); a missing component cannot be a symlink.
//  * Empty paths and paths containing NUL are refused with code `invalid`; escaping paths
//    with code `permission`; a failing lstat/readlink (other than "does not exist") or a
//    symlink loop with code `io`.
//
// The check and the use are separate system calls, so a process other than the VM that
// rewrites the tree under the root concurrently could race them; confinement guards the
// Ved program's own paths, not against a hostile co-tenant of the root.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace ved::vm {

struct ResolvedPath {
  // Every symlink followed, `.` and `..` gone: what reads and writes open.
  std::filesystem::path real;
  // The directory entry the path names: like `real`, but a final symlink is not
  // followed (it is still checked). What a delete unlinks, so deleting a symlink removes
  // the link and not its target.
  std::filesystem::path entry;
};

struct PathRefusal {
  std::string code;  // `invalid`, `permission` or `io`
  std::string message;
};

class FsRoot {
 public:
  // `root` must name an existing directory; it is made canonical (absolute, no symlinks)
  // here. Throws std::runtime_error saying why otherwise.
  explicit FsRoot(const std::filesystem::path& root);

  const std::filesystem::path& root() const { return root_; }

  // Resolves the program's `path`. False with `refusal` when it is refused.
  bool resolve(std::string_view path, ResolvedPath& out, PathRefusal& refusal) const;

  // Whether the canonical path `p` is the root or under it.
  bool contains(const std::filesystem::path& p) const;

 private:
  std::filesystem::path root_;
};

}  // namespace ved::vm
