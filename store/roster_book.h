// The Watch Roster of one workspace, kept in memory row by row: rows ordered
// as the roster shows them (since DESC, then agent_id), each row's JSON
// rendered once when the row changes, and answers for a crew filter put
// together from those pieces into one shared body that every reader of the
// same version sends without a copy.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace crewship::store {

// One roster row as the store holds it.
struct RosterEntry {
  std::string agent_id;
  std::string crew_id;  // the agent's crew now; empty: none
  std::string status;
  std::string since;    // RFC 3339 with nanoseconds
  std::string details;  // a JSON object, or empty
};

// {"rows":[...],"count":N} and its entity tag, which changes exactly when the
// rows it shows (their content or order) do.
struct RosterAnswer {
  std::string etag;
  std::shared_ptr<const std::string> body;
};

class RosterBook {
 public:
  // Replaces every row.
  void reset(std::vector<RosterEntry> rows);
  // The agent's row takes status, since and details and moves to its place;
  // false (and nothing changes) when the book has no row for the agent.
  bool update(std::string_view agent_id, std::string_view status, std::string_view since,
              std::string_view details);
  size_t size() const { return rows_.size(); }
  // The rows of one crew (empty: all rows), in roster order.
  RosterAnswer answer(std::string_view crew_id) const;

 private:
  // since DESC, agent_id ASC: the roster's ORDER BY (byte order, as SQLite's
  // BINARY collation compares).
  struct Order {
    bool operator()(const std::pair<std::string, std::string>& a,
                    const std::pair<std::string, std::string>& b) const {
      int c = a.first.compare(b.first);
      return c != 0 ? c > 0 : a.second < b.second;
    }
  };
  struct Row {
    std::string crew_id, status, details;
    std::string json;                  // the row's object as the answer shows it
    std::array<unsigned char, 16> hash;  // of json
  };
  using Rows = std::map<std::pair<std::string, std::string>, Row, Order>;  // (since, agent_id)

  static void render(const std::string& agent_id, const std::string& since, Row* row);

  Rows rows_;
  std::unordered_map<std::string, Rows::iterator> by_agent_;
};

}  // namespace crewship::store
