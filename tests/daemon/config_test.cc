#include <map>

#include <criterion/criterion.h>

#include "daemon/config.h"

using namespace crewship;

namespace {

struct Parsed {
  ParseOutcome outcome;
  Config cfg;
  std::string error;
};

Parsed parse(std::map<std::string, std::string> env, std::vector<std::string> args = {}) {
  std::vector<char*> argv = {const_cast<char*>("crewshipd")};
  for (auto& a : args) argv.push_back(a.data());
  Parsed p;
  p.outcome = parse_config(static_cast<int>(argv.size()), argv.data(), 1,
                           [&](std::string_view name) -> std::optional<std::string> {
                             auto it = env.find(std::string(name));
                             if (it == env.end()) return std::nullopt;
                             return it->second;
                           },
                           &p.cfg, &p.error);
  return p;
}

}  // namespace

TestSuite(config);

Test(config, defaults) {
  Parsed p = parse({});
  cr_assert_eq(p.outcome, ParseOutcome::kRun, "%s", p.error.c_str());
  cr_assert_eq(p.cfg.host, "0.0.0.0");
  cr_assert_eq(p.cfg.port, 8080);
  cr_assert_eq(p.cfg.data_dir, "./data");
  cr_assert(p.cfg.socket_path.empty(), "resolved against the data dir at start");
  cr_assert_eq(p.cfg.http.max_body_bytes, 1 << 20);
  cr_assert_eq(p.cfg.http.max_header_bytes, 64 << 10);
  cr_assert_eq(p.cfg.http.header_timeout_ms, 10'000);
  cr_assert_eq(p.cfg.log_level, log::Level::kInfo);
  cr_assert_eq(p.cfg.sandbox_image, "crewship-sandbox:latest");
  cr_assert_eq(p.cfg.journal_retention_ms, 30LL * 86'400'000);
  cr_assert_eq(p.cfg.journal_max_rows, 1'000'000);
}

Test(config, env_then_flags_win) {
  Parsed p = parse({{"CREWSHIP_PORT", "9000"}, {"CREWSHIP_HOST", "127.0.0.1"}},
                   {"--port", "9100", "--idle-timeout=5m"});
  cr_assert_eq(p.outcome, ParseOutcome::kRun, "%s", p.error.c_str());
  cr_assert_eq(p.cfg.port, 9100);
  cr_assert_eq(p.cfg.host, "127.0.0.1");
  cr_assert_eq(p.cfg.http.idle_timeout_ms, 300'000);
}

Test(config, alt_env_for_auth_secret) {
  std::string secret(40, 'x');
  Parsed p = parse({{"AUTH_SECRET", secret}});
  cr_assert_eq(p.outcome, ParseOutcome::kRun);
  cr_assert_eq(p.cfg.auth_secret, secret);
  Parsed q = parse({{"AUTH_SECRET", secret}, {"NEXTAUTH_SECRET", std::string(32, 'n')}});
  cr_assert_eq(q.cfg.auth_secret, std::string(32, 'n'), "NEXTAUTH_SECRET comes first");
}

Test(config, bad_values_name_the_setting) {
  struct Case {
    std::map<std::string, std::string> env;
    std::vector<std::string> args;
    const char* names;
  } cases[] = {
      {{{"CREWSHIP_PORT", "70000"}}, {}, "CREWSHIP_PORT"},
      {{{"CREWSHIP_PORT", "80a"}}, {}, "CREWSHIP_PORT"},
      {{{"CREWSHIP_PORT", ""}}, {}, "CREWSHIP_PORT"},
      {{}, {"--log-level=loud"}, "CREWSHIP_LOG_LEVEL"},
      {{}, {"--header-timeout", "5x"}, "CREWSHIP_HEADER_TIMEOUT"},
      {{}, {"--max-body-bytes=1TiB"}, "CREWSHIP_MAX_BODY_BYTES"},
      {{}, {"--max-connections=0"}, "CREWSHIP_MAX_CONNECTIONS"},
      {{{"NEXTAUTH_SECRET", "short"}}, {}, "NEXTAUTH_SECRET"},
      {{}, {"--port"}, "CREWSHIP_PORT"},
      {{}, {"--bogus=1"}, "--bogus"},
      {{{"CREWSHIP_DATA_DIR", ""}}, {}, "CREWSHIP_DATA_DIR"},
      {{{"CREWSHIP_JOURNAL_RETENTION", "500ms"}}, {}, "CREWSHIP_JOURNAL_RETENTION"},
      {{{"CREWSHIP_JOURNAL_RETENTION", "3651d"}}, {}, "CREWSHIP_JOURNAL_RETENTION"},
      {{{"CREWSHIP_JOURNAL_MAX_ROWS", "-1"}}, {}, "CREWSHIP_JOURNAL_MAX_ROWS"},
  };
  for (const Case& c : cases) {
    Parsed p = parse(c.env, c.args);
    cr_assert_eq(p.outcome, ParseOutcome::kError, "expected an error naming %s", c.names);
    cr_assert(p.error.find(c.names) != std::string::npos, "'%s' does not name %s", p.error.c_str(),
              c.names);
  }
}

Test(config, secrets_not_echoed) {
  Parsed p = parse({{"CREWSHIP_INTERNAL_TOKEN", std::string("abc\0def", 7)}});
  cr_assert_eq(p.outcome, ParseOutcome::kError);
  cr_assert(p.error.find("abc") == std::string::npos, "%s", p.error.c_str());
}

Test(config, help_and_version) {
  cr_assert_eq(parse({}, {"--help"}).outcome, ParseOutcome::kHelp);
  cr_assert_eq(parse({}, {"--version"}).outcome, ParseOutcome::kVersion);
  std::string usage = usage_text();
  for (const Setting& s : settings()) {
    cr_assert(usage.find(s.env) != std::string::npos, "--help lacks %.*s",
              static_cast<int>(s.env.size()), s.env.data());
    cr_assert(usage.find(s.flag) != std::string::npos);
  }
}

Test(config, durations) {
  int64_t ms = 0;
  cr_assert(parse_duration_ms("500ms", &ms) && ms == 500);
  cr_assert(parse_duration_ms("2s", &ms) && ms == 2000);
  cr_assert(parse_duration_ms("5m", &ms) && ms == 300'000);
  cr_assert(parse_duration_ms("1h", &ms) && ms == 3'600'000);
  cr_assert(parse_duration_ms("30d", &ms) && ms == 2'592'000'000);
  cr_assert(parse_duration_ms("7", &ms) && ms == 7000, "a bare number is seconds");
  for (const char* bad : {"", "s", "-1s", "1.5s", "1w", "1 s", "99999999999999999999h"})
    cr_assert_not(parse_duration_ms(bad, &ms), "accepted '%s'", bad);
}

Test(config, sizes) {
  int64_t b = 0;
  cr_assert(parse_bytes("1024", &b) && b == 1024);
  cr_assert(parse_bytes("64KiB", &b) && b == 65536);
  cr_assert(parse_bytes("1MiB", &b) && b == 1 << 20);
  cr_assert(parse_bytes("2G", &b) && b == 2LL << 30);
  for (const char* bad : {"", "MiB", "1 MiB", "1mb", "-5"})
    cr_assert_not(parse_bytes(bad, &b), "accepted '%s'", bad);
}

Test(config, license_limits_and_aux_slots) {
  Parsed p = parse({});
  cr_assert_eq(p.outcome, ParseOutcome::kRun, "%s", p.error.c_str());
  cr_assert_eq(p.cfg.license_max_agents, 0, "no limit by default");
  cr_assert_eq(p.cfg.license_max_workspaces, 0);
  cr_assert(p.cfg.aux_embedder_provider.empty());
  cr_assert_eq(p.cfg.aux_embedder_timeout_ms, 0, "unset: the slot's fallback");
  p = parse({{"CREWSHIP_LICENSE_MAX_MEMBERS", "25"}, {"CREWSHIP_AUX_CLASSIFIER_TIMEOUT", "45s"}},
            {"--license-max-crews=4"});
  cr_assert_eq(p.outcome, ParseOutcome::kRun, "%s", p.error.c_str());
  cr_assert_eq(p.cfg.license_max_members, 25);
  cr_assert_eq(p.cfg.license_max_crews, 4);
  cr_assert_eq(p.cfg.aux_classifier_timeout_ms, 45'000);
  for (const char* bad : {"-1", "many", "1.5"}) {
    p = parse({{"CREWSHIP_LICENSE_MAX_AGENTS", bad}});
    cr_assert_eq(p.outcome, ParseOutcome::kError, "accepted %s", bad);
    cr_assert(p.error.find("CREWSHIP_LICENSE_MAX_AGENTS") != std::string::npos, "%s", p.error.c_str());
  }
  p = parse({{"CREWSHIP_AUX_SUMMARIZER_TIMEOUT", "100ms"}});
  cr_assert_eq(p.outcome, ParseOutcome::kError, "under a second");
}
