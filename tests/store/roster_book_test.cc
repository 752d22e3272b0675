// The in-memory roster of a workspace: order, the JSON of each row, crew
// filters, updates that move a row, and entity tags that follow the rows.
#include <criterion/criterion.h>

#include <rapidjson/document.h>

#include "store/roster_book.h"

using namespace crewship;

namespace {

std::vector<store::RosterEntry> three() {
  return {
      {"a2", "c1", "busy", "2026-04-17T10:00:00.000000002Z", R"({"task":"T-1"})"},
      {"a1", "", "online", "2026-04-17T10:00:00.000000001Z", ""},
      {"a3", "c2", "offline", "2026-04-17T10:00:00.000000002Z", "{}"},
  };
}

std::string body(const store::RosterAnswer& a) { return a.body ? *a.body : std::string("<null>"); }

void same(const std::string& got, const std::string& want) {
  cr_assert(got == want, "got  %s\nwant %s", got.c_str(), want.c_str());
}

}  // namespace

Test(roster_book, rows_in_roster_order_with_empty_fields_left_out) {
  store::RosterBook book;
  book.reset(three());
  cr_assert_eq(book.size(), 3u);
  // since DESC, then agent_id; no crew_id without a crew; no details when empty or {}.
  same(body(book.answer("")),
                   R"({"rows":[)"
                   R"({"agent_id":"a2","crew_id":"c1","status":"busy","since":"2026-04-17T10:00:00.000000002Z","details":{"task":"T-1"}},)"
                   R"({"agent_id":"a3","crew_id":"c2","status":"offline","since":"2026-04-17T10:00:00.000000002Z"},)"
                   R"({"agent_id":"a1","status":"online","since":"2026-04-17T10:00:00.000000001Z"}],"count":3})");
  rapidjson::Document d;
  d.Parse(body(book.answer("")).c_str());
  cr_assert(d.IsObject(), "the answer is JSON");
}

Test(roster_book, crew_filter_and_empty_book) {
  store::RosterBook book;
  same(body(book.answer("")), R"({"rows":[],"count":0})");
  book.reset(three());
  same(body(book.answer("c2")),
                   R"({"rows":[{"agent_id":"a3","crew_id":"c2","status":"offline","since":"2026-04-17T10:00:00.000000002Z"}],"count":1})");
  same(body(book.answer("nope")), R"({"rows":[],"count":0})");
}

Test(roster_book, an_update_rewrites_one_row_and_moves_it) {
  store::RosterBook book;
  book.reset(three());
  cr_assert(book.update("a1", "blocked", "2026-04-17T10:00:01.000000000Z", R"({"why":"input"})"));
  same(body(book.answer("")),
                   R"({"rows":[)"
                   R"({"agent_id":"a1","status":"blocked","since":"2026-04-17T10:00:01.000000000Z","details":{"why":"input"}},)"
                   R"({"agent_id":"a2","crew_id":"c1","status":"busy","since":"2026-04-17T10:00:00.000000002Z","details":{"task":"T-1"}},)"
                   R"({"agent_id":"a3","crew_id":"c2","status":"offline","since":"2026-04-17T10:00:00.000000002Z"}],"count":3})");
  // Details go when the write carries none.
  cr_assert(book.update("a2", "online", "2026-04-17T10:00:02.000000000Z", ""));
  same(body(book.answer("c1")),
                   R"({"rows":[{"agent_id":"a2","crew_id":"c1","status":"online","since":"2026-04-17T10:00:02.000000000Z"}],"count":1})");
  cr_assert_not(book.update("a9", "busy", "2026-04-17T10:00:03.000000000Z", ""), "no row for a9");
  cr_assert_eq(book.size(), 3u);
}

Test(roster_book, etags_change_exactly_when_the_shown_rows_do) {
  store::RosterBook book, twin;
  book.reset(three());
  twin.reset(three());
  store::RosterAnswer all = book.answer(""), c1 = book.answer("c1"), c2 = book.answer("c2");
  cr_assert(all.etag.size() == 34 && all.etag.front() == '"' && all.etag.back() == '"', "%s", all.etag.c_str());
  cr_assert(twin.answer("").etag == all.etag, "the same rows, the same tag");
  cr_assert(c1.etag != c2.etag);
  cr_assert(c1.etag != all.etag);

  cr_assert(book.update("a3", "busy", "2026-04-17T10:00:05.000000000Z", ""));
  cr_assert(book.answer("").etag != all.etag);
  cr_assert(book.answer("c2").etag != c2.etag);
  cr_assert(book.answer("c1").etag == c1.etag, "crew c1 shows nothing new");
}
