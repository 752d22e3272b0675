// GET /api/v1/activity?workspace_id=&crew_id=&limit=&before= (read): the
// cross-crew feed, newest first, of audit rows, presence transitions, runs
// started and finished, and inbox items:
//   {"entries": [{id, kind, at, crew_id?, agent_id?, summary, data}],
//    "next_before": cursor | null}
// next_before is an opaque cursor (base64url of the last entry's at, source
// and row): the next page is what lies strictly before it, so pages neither
// repeat nor skip an entry while new ones arrive at the top, and a deep page
// costs what the first does (store/activity_store.h). There is no offset.
#include <charconv>

#include "api/common.h"
#include "api/routes.h"
#include "daemon/crypto.h"
#include "store/activity_store.h"
#include "store/crew_store.h"

namespace crewship::api {
namespace {

using store::ActivitySource;

struct SourceName {
  const char* kind;    // the entry's kind
  const char* prefix;  // its id is prefix:<id in the source's table>
};
constexpr SourceName kSources[store::kActivitySources] = {
    {"audit", "audit"}, {"presence", "presence"}, {"run.started", "run.started"},
    {"run.finished", "run.finished"}, {"inbox", "inbox"}};

// RFC 3339 UTC, whole seconds or 9 fractional digits, as the sources store it.
bool stored_time(std::string_view t) {
  static constexpr std::string_view kNanos = "dddd-dd-ddTdd:dd:dd.dddddddddZ";
  static constexpr std::string_view kSeconds = "dddd-dd-ddTdd:dd:ddZ";
  std::string_view shape = t.size() == kNanos.size() ? kNanos : kSeconds;
  if (t.size() != shape.size()) return false;
  for (size_t i = 0; i < t.size(); ++i) {
    if (shape[i] == 'd' ? (t[i] < '0' || t[i] > '9') : t[i] != shape[i]) return false;
  }
  return true;
}

std::string encode_cursor(const store::ActivityKey& k) {
  return crypto::base64url(k.at + '|' + std::to_string(static_cast<int>(k.source)) + '|' + std::to_string(k.row));
}

bool decode_cursor(std::string_view text, store::ActivityKey* out) {
  std::string raw;
  if (text.empty() || text.size() > 128 || !crypto::base64url_decode(text, &raw)) return false;
  size_t a = raw.find('|'), b = raw.rfind('|');
  if (a == std::string::npos || a == b) return false;
  out->at = raw.substr(0, a);
  std::string_view source = std::string_view(raw).substr(a + 1, b - a - 1);
  std::string_view row = std::string_view(raw).substr(b + 1);
  int s = -1;
  auto [ps, es] = std::from_chars(source.data(), source.data() + source.size(), s);
  auto [pr, er] = std::from_chars(row.data(), row.data() + row.size(), out->row);
  if (es != std::errc() || ps != source.data() + source.size() || s < 0 || s >= store::kActivitySources)
    return false;
  if (er != std::errc() || pr != row.data() + row.size() || out->row < 0) return false;
  out->source = static_cast<ActivitySource>(s);
  return stored_time(out->at);
}

std::string_view str(const rapidjson::Value& data, const char* key) {
  auto m = data.FindMember(key);
  if (m == data.MemberEnd() || !m->value.IsString()) return {};
  return {m->value.GetString(), m->value.GetStringLength()};
}

// One line a person reads, from the entry's data.
std::string summary_of(const store::ActivityRow& row, const rapidjson::Value& data) {
  std::string who = row.agent_name.empty() ? row.agent_id : row.agent_name;
  switch (row.key.source) {
    case ActivitySource::kAudit: {
      std::string s(str(data, "action"));
      s += " on ";
      s += str(data, "target_type");
      s += ' ';
      s += row.agent_name.empty() ? str(data, "target_id") : std::string_view(row.agent_name);
      return s;
    }
    case ActivitySource::kPresence: {
      std::string s = who + " is " + std::string(str(data, "status"));
      if (auto prev = str(data, "prev"); !prev.empty()) s += " (was " + std::string(prev) + ")";
      auto details = data.FindMember("details");
      if (details != data.MemberEnd() && details->value.IsObject())
        if (auto reason = str(details->value, "reason"); !reason.empty()) s += ": " + std::string(reason);
      return s;
    }
    case ActivitySource::kRunStarted:
      return who + " started a run" + (str(data, "source") == "webhook" ? " from a webhook" : "");
    case ActivitySource::kRunFinished: {
      std::string s = who + "'s run ended " + std::string(str(data, "status"));
      auto code = data.FindMember("exit_code");
      if (code != data.MemberEnd() && code->value.IsInt64())
        s += " (exit " + std::to_string(code->value.GetInt64()) + ")";
      return s;
    }
    case ActivitySource::kInbox: {
      std::string s = who + ": " + std::string(str(data, "kind")) + " in the inbox";
      auto blocking = data.FindMember("blocking");
      if (blocking != data.MemberEnd() && blocking->value.IsTrue()) s += ", blocking";
      if (str(data, "status") == "resolved") s += " (resolved)";
      return s;
    }
  }
  return {};
}

void write_entry(json::Out& out, const store::ActivityRow& row) {
  const SourceName& name = kSources[static_cast<int>(row.key.source)];
  rapidjson::Document data;
  data.Parse(row.data.data(), row.data.size());
  if (!data.IsObject()) data.SetObject();
  out.begin_object();
  out.member("id", std::string(name.prefix) + ':' + row.id);
  out.member("kind", name.kind);
  out.member("at", row.key.at);
  if (!row.crew_id.empty()) out.member("crew_id", row.crew_id);
  if (!row.agent_id.empty()) out.member("agent_id", row.agent_id);
  out.member("summary", summary_of(row, data));
  out.key("data");
  out.w().RawValue(row.data.data(), row.data.size(), rapidjson::kObjectType);
  out.end_object();
}

}  // namespace

void activity_feed(App& app, const ExchangePtr& ex) {
  if (ex->req.query_param("offset"))
    return reply_problem(ex, 400, "offset is not taken here: page with before=<next_before>");
  Page page;
  if (!read_page(ex, 50, 200, &page)) return;
  store::ActivityQuery q;
  q.workspace_id = ex->who.workspace_id;
  q.limit = page.limit;
  if (auto crew = ex->req.query_param("crew_id"); crew && !crew->empty()) {
    auto found = store::find_crew(app.store.reader(), *crew, ex->who.workspace_id);
    if (!found) return reply_problem(ex, found.problem());
    q.crew_id = *crew;
  }
  if (auto before = ex->req.query_param("before")) {
    store::ActivityKey key;
    if (!decode_cursor(*before, &key))
      return reply_problem(ex, 400, "before must be a cursor this feed answered as next_before");
    q.before = std::move(key);
  }
  auto feed = store::read_activity(app.store.reader(), q);
  if (!feed) return reply_problem(ex, feed.problem());
  json::Out out;
  out.begin_object();
  out.key("entries");
  out.begin_array();
  for (const store::ActivityRow& row : feed->rows) write_entry(out, row);
  out.end_array();
  out.key("next_before");
  if (feed->more) {
    out.str(encode_cursor(feed->rows.back().key));
  } else {
    out.w().Null();
  }
  out.end_object();
  reply(ex, 200, out);
}

}  // namespace crewship::api
