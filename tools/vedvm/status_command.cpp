#include <algorithm>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cluster/client.h"
#include "tools/vedvm/cluster_commands.h"
#include "tools/vedvm/commands.h"

namespace vedvm {

namespace {

using Json = nlohmann::ordered_json;

bool ask_status(ved::cluster::ClusterClient& client, const std::string& address, unsigned timeout_ms, Json& out,
                std::string& error) {
  ved::cluster::ClientRequest request;
  request.kind = ved::cluster::ClientRequest::Status;
  ved::cluster::ClientReply reply;
  if (!client.call(address, request, static_cast<int>(timeout_ms), reply, error)) return false;
  try {
    out = Json::parse(reply.payload);
    return true;
  } catch (const std::exception& e) {
    error = std::string("unreadable status from ") + address + ": " + e.what();
    return false;
  }
}

std::string text(const Json& j) { return j.is_null() ? "-" : j.is_string() ? j.get<std::string>() : j.dump(); }

}  // namespace

int status(const StatusOptions& o) {
  ved::cluster::Security security;
  if (!read_security(o.security, security)) return kExitUsage;
  ved::cluster::ClusterClient client(security);
  Json asked;
  std::string error;
  if (!ask_status(client, o.join, o.timeout_ms, asked, error)) {
    std::cerr << "vedvm: error: " << terminal_text(error) << "\n";
    return kExitError;
  }
  const bool quorum = !asked["leader"].is_null() && asked["health"] == "ACTIVE";
  // Every member's own view of its indexes and health (the member asked knows only its own).
  Json members = Json::array();
  auto listed = asked["members"];
  std::sort(listed.begin(), listed.end(), [](const Json& a, const Json& b) { return a["node"] < b["node"]; });
  for (const auto& m : listed) {
    Json row;
    row["node"] = m["node"];
    row["address"] = m["address"];
    row["group"] = m["group"];
    row["role"] = m["role"];
    row["voter"] = m["role"] == "voter";
    Json own;
    std::string why;
    const bool reachable = m["node"] == asked["node"] ? (own = asked, true) : ask_status(client, m["address"], 1000, own, why);
    row["state"] = m["liveness"] == "DOWN" || !reachable ? "DOWN" : own["health"];
    row["eligible"] = m.value("eligible", true);
    row["reachable"] = reachable;
    row["last_contact_ms"] = m["last_contact_ms"];
    row["raft_state"] = reachable ? own["state"] : Json(nullptr);
    row["term"] = reachable ? own["term"] : Json(nullptr);
    row["commit_index"] = reachable ? own["commit_index"] : Json(nullptr);
    row["applied_index"] = reachable ? own["applied_index"] : Json(nullptr);
    row["digest"] = reachable ? own["digest"] : Json(nullptr);
    members.push_back(row);
  }
  if (o.json) {
    Json j;
    j["cluster"] = asked["cluster"];
    j["asked"] = Json{{"node", asked["node"]}, {"address", asked["address"]}, {"quorum", quorum}};
    j["leader"] = asked["leader"];
    j["term"] = asked["term"];
    j["members"] = members;
    j["programs"] = asked["programs"];
    j["placement_epoch"] = asked["placement_epoch"];
    j["fenced"] = asked["fenced"];
    std::cout << j.dump(2) << "\n";
    return quorum ? kExitOk : kExitUnsatisfied;
  }
  std::cout << "cluster " << text(asked["cluster"]) << "  term " << text(asked["term"]) << "  leader ";
  if (asked["leader"].is_null()) std::cout << "none known";
  else std::cout << "node " << text(asked["leader"]["node"]) << " (" << text(asked["leader"]["address"]) << ")";
  std::cout << "\n";
  if (!quorum)
    std::cout << "the member asked (node " << text(asked["node"]) << " at " << text(asked["address"])
              << ") has no quorum: it cannot reach a majority, commits nothing, and what follows is its last view\n";
  std::printf("%-17s %-22s %-8s %-8s %-9s %-13s %-8s %-8s\n", "NODE", "ADDRESS", "GROUP", "ROLE", "STATE",
              "LAST CONTACT", "COMMIT", "APPLIED");
  for (const auto& m : members) {
    const std::string contact = m["last_contact_ms"].is_null() ? "-" : text(m["last_contact_ms"]) + " ms ago";
    const std::string group = text(m["group"]).empty() ? "-" : text(m["group"]);
    std::printf("%-17s %-22s %-8s %-8s %-9s %-13s %-8s %-8s\n", text(m["node"]).c_str(), text(m["address"]).c_str(),
                terminal_text(group).c_str(), text(m["role"]).c_str(), text(m["state"]).c_str(), contact.c_str(),
                text(m["commit_index"]).c_str(), text(m["applied_index"]).c_str());
  }
  for (const auto& m : members)
    if (m["state"] != "DOWN" && !m["eligible"].get<bool>())
      std::cout << "node " << text(m["node"]) << " is back from DOWN: it receives no program until it has stayed up for "
                << "the leader's --rebalance-after\n";
  const auto& programs = asked["programs"];
  std::cout << "placement epoch " << text(asked["placement_epoch"]) << ", fenced entries " << text(asked["fenced"])
            << "\nprograms: " << programs.size() << "\n";
  for (const auto& p : programs) {
    std::cout << "  " << text(p["id"]) << "  " << terminal_text(text(p["name"])) << "  " << text(p["status"]);
    if (!p["exit_code"].is_null()) std::cout << " (exit " << text(p["exit_code"]) << ")";
    std::cout << "  owner " << text(p["owner"]) << "  " << text(p["frames"]) << " frames";
    if (p.contains("frames_held") && p["frames_held"] != p["frames"])
      std::cout << " (node " << text(asked["node"]) << " holds " << text(p["frames_held"])
                << ": it is fetching the rest from its peers)";
    if (p.contains("builds") && p["builds"].get<uint64_t>() > 1)
      std::cout << "  " << p["builds"].get<uint64_t>() - 1 << (p["builds"] == 2 ? " upgrade" : " upgrades") << " taken";
    if (p.contains("group") && !p["group"].is_null()) std::cout << "  group " << terminal_text(text(p["group"]));
    if (p.contains("waiting") && !p["waiting"].is_null()) std::cout << "  waiting: " << terminal_text(text(p["waiting"]));
    if (p.contains("upgrade_pending") && !p["upgrade_pending"].is_null())
      std::cout << "  upgrade " << text(p["upgrade_pending"]) << " pending: its owner takes it at its next tick boundary";
    std::cout << "\n";
  }
  return quorum ? kExitOk : kExitUnsatisfied;
}

}  // namespace vedvm
