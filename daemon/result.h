// The one result type of the tree: a value, or the problem that stopped it.
// A Problem is what the caller would answer over HTTP (status and detail), so
// a store, engine or file failure travels up unchanged and is answered once.
// std::expected is C++23; this is the small part of it the daemon needs.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace crewship {

struct Problem {
  int status = 500;    // the HTTP status it leads to: 4xx the caller's fault, 5xx ours
  std::string detail;  // the problem+json detail
  // Retry-After of the answer, on a 503 or 429 (0: none).
  int retry_after_s = 0;
  // What went wrong inside, for the log line the handler writes once with the
  // request id; never sent to the client (it may name files or SQL).
  std::string cause;
};

inline Problem fail(int status, std::string detail, int retry_after_s = 0) {
  return Problem{status, std::move(detail), retry_after_s, {}};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit, as std::expected
  Result(Problem problem) : v_(std::move(problem)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Problem& problem() const {
    assert(!ok());
    return std::get<1>(v_);
  }
  Problem&& take_problem() && {
    assert(!ok());
    return std::get<1>(std::move(v_));
  }

 private:
  std::variant<T, Problem> v_;
};

// A result with no value: ok, or a problem.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Problem problem) : p_(std::move(problem)) {}  // NOLINT

  bool ok() const { return !p_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Problem& problem() const {
    assert(!ok());
    return *p_;
  }
  Problem&& take_problem() && {
    assert(!ok());
    return std::move(*p_);
  }

 private:
  std::optional<Problem> p_;
};

using Status = Result<void>;

}  // namespace crewship
