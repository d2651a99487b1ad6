#include <chrono>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>

#include "cluster/client.h"
#include "tools/vedvm/cluster_commands.h"
#include "tools/vedvm/commands.h"

namespace vedvm {

namespace {

// One id for every retry: the journal keeps one program (or upgrade) per request id, so a
// client that lost an answer and sends again does not submit twice.
std::string new_request_id() {
  std::random_device rd;
  std::string id(16, '\0');
  for (auto& c : id) c = static_cast<char>(rd() & 0xff);
  return id;
}

// `vedvm --join HOST:PORT app.vedb --upgrade` (docs/cluster.md "Upgrades"): commits the
// new build, then waits for its owner's verdict and prints it; refused, it exits 1 with
// every reason. With --follow, a taken upgrade is followed to the run's end.
int upgrade_on_cluster(const SubmitOptions& o, ved::cluster::ClusterClient& client, const ved::vm::Program& program,
                       const std::string& bundle) {
  ved::cluster::ClientRequest request;
  request.kind = ved::cluster::ClientRequest::Upgrade;
  request.request_id = new_request_id();
  request.program_name = program.name;
  request.bundle = bundle;
  ved::cluster::ClientReply reply;
  std::string error;
  const bool answered = client.call_leader(o.join, request, static_cast<int>(o.timeout_ms), reply, error);
  if (reply.status == ved::cluster::ClientReply::Refused && !reply.message.empty()) {
    std::cerr << "vedvm: error: the upgrade of " << program.name << " was refused: " << terminal_text(reply.message) << "\n";
    return kExitError;
  }
  if (!answered) {
    std::cerr << "vedvm: error: the upgrade of " << program.name << " was not committed: no quorum answered within "
              << o.timeout_ms / 1000.0 << " s" << (error.empty() ? "" : " (" + terminal_text(error) + ")") << "\n";
    return kExitError;
  }
  uint64_t id = 0, upgrade = 0;
  std::istringstream(reply.payload) >> id >> upgrade;
  std::cerr << "vedvm: upgrade " << upgrade << " of " << program.name << " (program " << id
            << ") committed; waiting for its owner to take it\n";
  // The verdict comes once the program's owner reaches a tick boundary (or takes the
  // program on, when its run had ended).
  ved::cluster::ClientRequest ask;
  ask.kind = ved::cluster::ClientRequest::UpgradeVerdict;
  ask.request_id = request.request_id;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(o.timeout_ms);
  ved::cluster::UpgradeVerdict verdict;
  for (;;) {
    ved::cluster::ClientReply answer;
    if (client.call_leader(o.join, ask, 2000, answer, error) && answer.status == ved::cluster::ClientReply::Ok &&
        !ved::cluster::decode_upgrade_verdict(answer.payload, verdict, error)) {
      std::cerr << "vedvm: error: the cluster's verdict on upgrade " << upgrade << " is malformed: " << terminal_text(error) << "\n";
      return kExitError;
    }
    if (verdict.decided) break;
    if (std::chrono::steady_clock::now() > deadline) {
      std::cerr << "vedvm: error: upgrade " << upgrade << " of program " << id << " is committed, and its owner gave no "
                << "verdict within " << o.timeout_ms / 1000.0 << " s; it will take it when it can (vedvm status shows "
                << "the program's pending upgrade)\n";
      return kExitError;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (!verdict.ok) {
    std::cerr << "vedvm: error: upgrade " << upgrade << " of " << program.name << " (program " << id
              << ") was refused; the run goes on with the build it had:\n";
    for (const auto& line : verdict.lines) std::cerr << "  " << terminal_text(line) << "\n";
    return kExitError;
  }
  for (const auto& line : verdict.lines)
    (o.follow ? std::cerr << "vedvm: " : std::cout) << terminal_text(line) << " (program " << id << ")\n";
  return o.follow ? follow_program(o, client, std::to_string(id)) : kExitOk;
}

}  // namespace

int submit(const SubmitOptions& o) {
  ved::cluster::Security security;
  if (!read_security(o.security, security)) return kExitUsage;
  ved::vm::Program program;
  std::string bundle;
  if (!load_program(o.program, program, bundle)) return kExitError;
  ved::cluster::ClusterClient client(security);
  if (o.upgrade) return upgrade_on_cluster(o, client, program, bundle);
  ved::cluster::ClientRequest request;
  request.kind = ved::cluster::ClientRequest::Submit;
  request.request_id = new_request_id();
  request.program_name = program.name;
  request.bundle = bundle;
  request.seed = o.seed;
  ved::cluster::ClientReply reply;
  std::string error;
  const bool answered = client.call_leader(o.join, request, static_cast<int>(o.timeout_ms), reply, error);
  if (!answered || reply.status != ved::cluster::ClientReply::Ok) {
    if (answered && reply.status == ved::cluster::ClientReply::Refused)
      std::cerr << "vedvm: error: " << program.name << " was not submitted: " << terminal_text(reply.message) << "\n";
    else
      std::cerr << "vedvm: error: " << program.name << " was not submitted: no quorum answered within "
                << o.timeout_ms / 1000.0 << " s" << (error.empty() ? "" : " (" + terminal_text(error) + ")") << "\n";
    return kExitError;
  }
  if (!o.follow) {
    std::cout << "submitted " << program.name << " as program " << reply.payload << "\n";
    return kExitOk;
  }
  std::cerr << "vedvm: submitted " << program.name << " as program " << reply.payload << "; following its run\n";
  return follow_program(o, client, reply.payload);
}

}  // namespace vedvm
