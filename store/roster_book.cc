#include "store/roster_book.h"

#include <charconv>

#include <sodium.h>

#include "daemon/crypto.h"
#include "daemon/json.h"

namespace crewship::store {

void RosterBook::render(const std::string& agent_id, const std::string& since, Row* row) {
  json::Out out;
  out.begin_object();
  out.member("agent_id", agent_id);
  if (!row->crew_id.empty()) out.member("crew_id", row->crew_id);
  out.member("status", row->status);
  out.member("since", since);
  if (!row->details.empty() && row->details != "{}") {
    out.key("details");
    out.w().RawValue(row->details.data(), row->details.size(), rapidjson::kObjectType);
  }
  out.end_object();
  row->json = out.take();
  crypto_generichash(row->hash.data(), row->hash.size(), reinterpret_cast<const unsigned char*>(row->json.data()),
                     row->json.size(), nullptr, 0);
}

void RosterBook::reset(std::vector<RosterEntry> entries) {
  rows_.clear();
  by_agent_.clear();
  for (RosterEntry& e : entries) {
    Row row{std::move(e.crew_id), std::move(e.status), std::move(e.details), {}, {}};
    render(e.agent_id, e.since, &row);
    auto [it, fresh] = rows_.emplace(std::make_pair(std::move(e.since), e.agent_id), std::move(row));
    if (fresh) by_agent_.emplace(std::move(e.agent_id), it);
  }
}

bool RosterBook::update(std::string_view agent_id, std::string_view status, std::string_view since,
                        std::string_view details) {
  auto found = by_agent_.find(std::string(agent_id));
  if (found == by_agent_.end()) return false;
  auto node = rows_.extract(found->second);
  node.key().first.assign(since);
  Row& row = node.mapped();
  row.status.assign(status);
  row.details.assign(details);
  render(node.key().second, node.key().first, &row);
  found->second = rows_.insert(std::move(node)).position;
  return true;
}

RosterAnswer RosterBook::answer(std::string_view crew_id) const {
  size_t bytes = 32;
  for (const auto& [key, row] : rows_)
    if (crew_id.empty() || row.crew_id == crew_id) bytes += row.json.size() + 1;
  auto body = std::make_shared<std::string>();
  body->reserve(bytes);
  body->append(R"({"rows":[)");
  crypto_generichash_state state;
  unsigned char tag[16];
  crypto_generichash_init(&state, nullptr, 0, sizeof tag);
  size_t count = 0;
  for (const auto& [key, row] : rows_) {
    if (!crew_id.empty() && row.crew_id != crew_id) continue;
    if (count++ > 0) body->push_back(',');
    body->append(row.json);
    crypto_generichash_update(&state, row.hash.data(), row.hash.size());
  }
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, count).ptr;
  body->append(R"(],"count":)").append(digits, end).push_back('}');
  crypto_generichash_final(&state, tag, sizeof tag);
  return {"\"" + crypto::hex(tag, sizeof tag) + "\"", std::move(body)};
}

}  // namespace crewship::store
