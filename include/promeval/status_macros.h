// Status propagation macros for absl::Status / absl::StatusOr.
//
// Abseil 20220623 (Debian 12) ships no status macros, so promeval defines its
// own with the shape of upstream ABSL_RETURN_IF_ERROR / ABSL_ASSIGN_OR_RETURN.
#ifndef PROMEVAL_STATUS_MACROS_H_
#define PROMEVAL_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Evaluates `expr` (an absl::Status) and returns it from the enclosing
// function if it is not OK.
#define PROMEVAL_RETURN_IF_ERROR(expr)                   \
  do {                                                   \
    ::absl::Status promeval_status_ = (expr);            \
    if (!promeval_status_.ok()) return promeval_status_; \
  } while (false)

#define PROMEVAL_STATUS_CONCAT_INNER_(a, b) a##b
#define PROMEVAL_STATUS_CONCAT_(a, b) PROMEVAL_STATUS_CONCAT_INNER_(a, b)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status from
// the enclosing function, otherwise moves the value into `lhs`, which may be a
// declaration (`auto x`) or an existing variable.
#define PROMEVAL_ASSIGN_OR_RETURN(lhs, rexpr) \
  PROMEVAL_ASSIGN_OR_RETURN_IMPL_(            \
      PROMEVAL_STATUS_CONCAT_(promeval_statusor_, __LINE__), lhs, rexpr)

#define PROMEVAL_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                    \
  if (!statusor.ok()) return std::move(statusor).status();    \
  lhs = *std::move(statusor)

#endif  // PROMEVAL_STATUS_MACROS_H_
