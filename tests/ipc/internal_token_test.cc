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
