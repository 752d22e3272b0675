#include <sys/stat.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "ipc/internal_token.h"
#include "tests/support/harness.h"

using namespace crewship;
using ipc::InternalAuth;

namespace {
struct TempDir {
  std::string path = test::make_temp_dir();
  ~TempDir() { test::remove_tree(path); }
};
void init() { cr_assert_geq(sodium_init(), 0); }
}  // namespace

TestSuite(internal_token, .init = init);

Test(internal_token, configured_token_wins) {
  TempDir dir;
  InternalAuth a;
  std::string err, token(40, 'k');
  cr_assert_eq(a.load(token, "some key", dir.path, &err), 0, "%s", err.c_str());
  cr_assert_eq(a.source(), InternalAuth::Source::kConfig);
  cr_assert(a.is_master(token));
  cr_assert_not(a.is_master(token + "x"));
  cr_assert_not(a.is_master(std::string(39, 'k') + "j"));
  cr_assert_not(a.is_master(""));
}

Test(internal_token, configured_token_must_be_sane) {
  TempDir dir;
  InternalAuth a;
  std::string err;
  cr_assert_neq(a.load("short", "", dir.path, &err), 0);
  cr_assert(err.find("CREWSHIP_INTERNAL_TOKEN") != std::string::npos);
}

Test(internal_token, derived_from_encryption_key) {
  TempDir dir;
  InternalAuth a, b, c;
  std::string err;
  cr_assert_eq(a.load("", "key-one", dir.path, &err), 0);
  cr_assert_eq(b.load("", "key-one", dir.path, &err), 0);
  cr_assert_eq(c.load("", "key-two", dir.path, &err), 0);
  cr_assert_eq(a.source(), InternalAuth::Source::kDerived);
  cr_assert_eq(a.master().size(), 64u);
  cr_assert_eq(a.master(), b.master(), "stable across starts");
  cr_assert_neq(a.master(), c.master());
  cr_assert_neq(a.master().find_first_not_of("0123456789abcdef"), 0u);
  struct stat st;
  cr_assert_neq(stat((dir.path + "/internal-token").c_str(), &st), 0, "no file when derived");
}

Test(internal_token, generated_once_then_reused) {
  TempDir dir;
  std::string err;
  InternalAuth a;
  cr_assert_eq(a.load("", "", dir.path, &err), 0, "%s", err.c_str());
  cr_assert_eq(a.source(), InternalAuth::Source::kGenerated);
  cr_assert_eq(a.master().size(), 64u);
  struct stat st;
  cr_assert_eq(stat((dir.path + "/internal-token").c_str(), &st), 0);
  cr_assert_eq(st.st_mode & 0777, 0600);
  InternalAuth b;
  cr_assert_eq(b.load("", "", dir.path, &err), 0);
  cr_assert_eq(b.source(), InternalAuth::Source::kFile);
  cr_assert_eq(a.master(), b.master());
}

Test(internal_token, garbage_file_is_an_error) {
  TempDir dir;
  FILE* f = fopen((dir.path + "/internal-token").c_str(), "w");
  fputs("x\n", f);
  fclose(f);
  InternalAuth a;
  std::string err;
  cr_assert_neq(a.load("", "", dir.path, &err), 0);
  cr_assert(err.find("internal-token") != std::string::npos, "%s", err.c_str());
}

Test(internal_token, bound_tokens) {
  TempDir dir;
  InternalAuth a, other;
  std::string err;
  cr_assert_eq(a.load(std::string(40, 'm'), "", dir.path, &err), 0);
  cr_assert_eq(other.load(std::string(40, 'o'), "", dir.path, &err), 0);
  InternalAuth::Scope s;
  auto gen0 = [](std::string_view) -> int64_t { return 0; };
  cr_assert(a.verify(std::string(40, 'm'), &s, gen0));
  cr_assert(s.workspace_id.empty() && s.crew_id.empty(), "the master token is unscoped");

  std::string crew = a.crew_token("ws1", "crew1", 0);
  cr_assert(crew.rfind("crwv1.ws1.crew1.", 0) == 0, "%s", crew.c_str());
  cr_assert(a.verify(crew, &s, gen0));
  cr_assert_eq(s.workspace_id, "ws1");
  cr_assert_eq(s.crew_id, "crew1");
  std::string ws = a.workspace_token("ws1");
  cr_assert(a.verify(ws, &s, gen0));
  cr_assert_eq(s.workspace_id, "ws1");
  cr_assert(s.crew_id.empty());

  cr_assert_not(other.verify(crew, &s, gen0), "another master derives other tokens");
  std::string mac = crew.substr(crew.rfind('.'));
  for (const std::string& bad : std::vector<std::string>{"crwv1.ws1.crew2" + mac, "crwv1.ws2.crew1" + mac, "wsv1.ws1" + mac,
                          "crwv1.ws1.crew1." + std::string(64, '0'), std::string("crwv1.ws1.crew1"), "crwv2.ws1.crew1" + mac,
                          "crwv1.ws.1.crew1" + mac, "crwv1..crew1" + mac, std::string("")})
    cr_assert_not(a.verify(bad, &s, gen0), "accepted %s", bad.c_str());
}

// A crew's token generation is part of its tokens' MAC: moving it on
// revokes them; an unknown crew (negative generation) is refused.
Test(internal_token, generations_revoke) {
  TempDir dir;
  InternalAuth a;
  std::string err;
  cr_assert_eq(a.load(std::string(40, 'm'), "", dir.path, &err), 0);
  InternalAuth::Scope s;
  int64_t current = 0;
  auto gen = [&](std::string_view crew) -> int64_t { return crew == "crew1" ? current : -1; };
  std::string old = a.crew_token("ws1", "crew1", 0);
  cr_assert(a.verify(old, &s, gen));
  current = 1;
  cr_assert_not(a.verify(old, &s, gen), "generation 0's token after a rotation");
  std::string now = a.crew_token("ws1", "crew1", 1);
  cr_assert_neq(now, old);
  cr_assert(now.rfind("crwv1.ws1.crew1.", 0) == 0, "same shape: %s", now.c_str());
  cr_assert(a.verify(now, &s, gen));
  cr_assert_not(a.verify(a.crew_token("ws1", "crew2", 0), &s, gen), "a crew the store does not know");
  cr_assert(a.verify(a.workspace_token("ws1"), &s, gen), "workspace tokens have no generation");
}
