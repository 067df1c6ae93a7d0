#include "eval/accounting.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "eval/absent.h"

namespace promeval::eval {

absl::Status TooManySamplesError() {
  return absl::ResourceExhaustedError(
      "query processing would load too many samples into memory in query "
      "execution");
}

SampleAccounting::SampleAccounting(int64_t max_samples, int lanes)
    : max_samples_(max_samples),
      current_(std::max(lanes, 1), 0),
      peak_(std::max(lanes, 1), 0) {}

int64_t SampleAccounting::peak() const {
  return *std::max_element(peak_.begin(), peak_.end());
}

LaneCounts SampleAccounting::Sum(absl::Span<const int64_t> per_step) const {
  if (lanes() > 1) return LaneCounts(per_step.begin(), per_step.end());
  int64_t sum = 0;
  for (int64_t n : per_step) sum += n;
  return LaneCounts{sum};
}

absl::Status SampleAccounting::Check() {
  bool over = false;
  for (size_t l = 0; l < current_.size(); ++l) {
    peak_[l] = std::max(peak_[l], current_[l]);
    over = over || current_[l] > max_samples_;
  }
  return over ? TooManySamplesError() : absl::OkStatus();
}

absl::Status SampleAccounting::Add(const LaneCounts& n) {
  for (size_t l = 0; l < current_.size(); ++l) current_[l] += n[l];
  return Check();
}

absl::Status SampleAccounting::AddAll(int64_t n) {
  for (int64_t& c : current_) c += n;
  return Check();
}

void SampleAccounting::SubAll(int64_t n) {
  for (int64_t& c : current_) c -= n;
}

void SampleAccounting::Reset(const LaneCounts& mark, const LaneCounts& n) {
  for (size_t l = 0; l < current_.size(); ++l) {
    current_[l] = mark[l] + n[l];
    peak_[l] = std::max(peak_[l], current_[l]);
  }
}

absl::Status SampleAccounting::Reach(const LaneCounts& extra) {
  bool over = false;
  for (size_t l = 0; l < current_.size(); ++l) {
    const int64_t reached = current_[l] + extra[l];
    peak_[l] = std::max(peak_[l], reached);
    over = over || reached > max_samples_;
  }
  return over ? TooManySamplesError() : absl::OkStatus();
}

absl::Status SampleAccounting::RangeEval(const LaneCounts& mark,
                                         absl::Span<const int64_t> gathered,
                                         absl::Span<const int64_t> out) {
  LaneCounts most(current_.size(), 0);
  if (lanes() > 1) {
    // An instant query per step: its operands, their samples gathered
    // again, and its output.
    for (size_t k = 0; k < out.size(); ++k) most[k] = gathered[k] + out[k];
  } else {
    // At step k: the output of the steps before, the samples gathered at k
    // and the output at k.
    int64_t before = 0;
    for (size_t k = 0; k < out.size(); ++k) {
      most[0] = std::max(most[0], before + gathered[k] + out[k]);
      before += out[k];
    }
  }
  absl::Status reached = Reach(most);
  Reset(mark, Sum(out));
  return reached;
}

SampleAccounting SampleAccounting::Child(int lanes) const {
  return SampleAccounting(max_samples_, lanes);
}

absl::Status SampleAccounting::MergeChild(const SampleAccounting& child) {
  absl::Status reached = Reach(child.peak_);
  for (size_t l = 0; l < current_.size(); ++l) {
    current_[l] += child.current_[l];
  }
  total_ += child.total_;
  return reached;
}

bool SampleAccounting::Fits(const SampleAccounting& child) const {
  for (size_t l = 0; l < current_.size(); ++l) {
    if (current_[l] + child.peak_[l] > max_samples_) return false;
  }
  return true;
}

absl::Status SampleAccounting::MergeIntoEveryLane(const SampleAccounting& child,
                                                  int64_t total_times) {
  absl::Status reached = Reach(LaneCounts(current_.size(), child.peak_[0]));
  for (int64_t& c : current_) c += child.current_[0];
  total_ += child.total_ * total_times;
  return reached;
}

SeriesLoopAccount::SeriesLoopAccount(int lanes, int steps)
    : peak_(lanes > 1 ? steps : 1, 0), kept_(lanes > 1 ? steps : 1, 0) {}

void SeriesLoopAccount::AddSeries(int64_t widest, int64_t last, int64_t out) {
  peak_[0] = std::max(peak_[0], kept_[0] + std::max(widest, last + out));
  kept_[0] += out;
}

void SeriesLoopAccount::AddSeriesPerStep(absl::Span<const int64_t> windows,
                                         absl::Span<const double> values) {
  for (size_t k = 0; k < windows.size(); ++k) {
    // An absent value is a NaN with a payload no result has; any other
    // value, NaN included, is output.
    const int64_t out = IsAbsent(values[k]) ? 0 : 1;
    peak_[k] = std::max(peak_[k], kept_[k] + windows[k] + out);
    kept_[k] += out;
  }
}

void SeriesLoopAccount::Append(const SeriesLoopAccount& next) {
  for (size_t l = 0; l < peak_.size(); ++l) {
    peak_[l] = std::max(peak_[l], kept_[l] + next.peak_[l]);
    kept_[l] += next.kept_[l];
  }
}

absl::Status ByteAccounting::Reserve(int64_t n) {
  current_ += n;
  peak_ = std::max(peak_, current_);
  if (max_bytes_ > 0 && current_ > max_bytes_) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "query processing would use more than ", max_bytes_,
        " bytes of memory in query execution (the query byte limit)"));
  }
  return absl::OkStatus();
}

absl::Status ByteAccounting::MergeChild(const ByteAccounting& child) {
  peak_ = std::max(peak_, current_ + child.peak_);
  return Reserve(child.current_);
}

}  // namespace promeval::eval
