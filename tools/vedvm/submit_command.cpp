#include <iostream>
#include <random>

#include "cluster/client.h"
#include "tools/vedvm/cluster_commands.h"
#include "tools/vedvm/commands.h"

namespace vedvm {

int submit(const SubmitOptions& o) {
  ved::cluster::Security security;
  if (!read_security(o.security, security)) return kExitUsage;
  ved::vm::Program program;
  std::string bundle;
  if (!load_program(o.program, program, bundle)) return kExitError;
  ved::cluster::ClientRequest request;
  request.kind = ved::cluster::ClientRequest::Submit;
  // One id for every retry: the journal keeps one program per request id, so a client
  // that lost an answer and sends again does not submit twice.
  std::random_device rd;
  request.request_id.resize(16);
  for (auto& c : request.request_id) c = static_cast<char>(rd() & 0xff);
  request.program_name = program.name;
  request.bundle = bundle;
  request.seed = o.seed;
  ved::cluster::ClusterClient client(security);
  ved::cluster::ClientReply reply;
  std::string error;
  if (!client.call_leader(o.join, request, static_cast<int>(o.timeout_ms), reply, error)) {
    if (reply.status == ved::cluster::ClientReply::Refused && !reply.message.empty()) error = reply.message;
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
