#include <chrono>
#include <iostream>
#include <thread>
#include <nlohmann/json.hpp>

#include "cluster/client.h"
#include "tools/vedvm/cluster_commands.h"
#include "tools/vedvm/commands.h"

namespace vedvm {

int leave(const LeaveOptions& o) {
  ved::cluster::Security security;
  if (!read_security(o.security, security)) return kExitUsage;
  ved::cluster::ClusterClient client(security);
  // Where the leaving node listens, to tell it to stop once it is removed (a removed
  // node is not sent the configuration that removes it).
  ved::cluster::ClientRequest status_request;
  status_request.kind = ved::cluster::ClientRequest::Status;
  ved::cluster::ClientReply reply;
  std::string error, node_address;
  if (client.call(o.join, status_request, 3000, reply, error)) {
    try {
      const auto status = nlohmann::json::parse(reply.payload);  // kept alive for the loop
      for (const auto& m : status.at("members"))
        if (m.at("node").get<uint64_t>() == o.node) node_address = m.at("address").get<std::string>();
    } catch (const std::exception&) {
      // No address: the node is only removed, not told to stop.
    }
  }
  ved::cluster::ClientRequest request;
  request.kind = ved::cluster::ClientRequest::Leave;
  request.node_id = o.node;
  if (!client.call_leader(o.join, request, static_cast<int>(o.timeout_ms), reply, error) ||
      reply.status != ved::cluster::ClientReply::Ok) {
    std::cerr << "vedvm: error: node " << o.node << " did not leave: "
              << terminal_text(reply.status == ved::cluster::ClientReply::Refused ? reply.message : error) << "\n";
    return kExitError;
  }
  std::cout << "node " << o.node << " left the cluster\n";
  if (!node_address.empty()) {
    ved::cluster::ClientRequest shutdown;
    shutdown.kind = ved::cluster::ClientRequest::Shutdown;
    // Right after its removal the node may still think it leads (until it hears the
    // new term): ask again for a few seconds.
    bool told = false;
    for (int attempt = 0; attempt < 30 && !told; ++attempt) {
      told = client.call(node_address, shutdown, 1000, reply, error) && reply.status == ved::cluster::ClientReply::Ok;
      if (!told) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    if (!told)
      std::cerr << "vedvm: note: could not tell node " << o.node << " at " << node_address << " to stop: "
                << terminal_text(reply.message.empty() ? error : reply.message) << "\n";
  }
  return kExitOk;
}

}  // namespace vedvm
