// The parser's function signatures and the evaluator's implementations are
// two tables under the same names; these tests keep them in step.
#include <set>
#include <string>

#include "eval/functions.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "promeval/parser.h"

namespace promeval::eval {
namespace {

TEST(FunctionTableParityTest, SameNames) {
  std::set<std::string> parsed, implemented;
  for (const FunctionSignature& f : AllFunctions()) {
    parsed.emplace(f.name);
  }
  for (const FunctionEntry& e : FunctionImplementations()) {
    EXPECT_TRUE(implemented.emplace(e.name).second) << "twice: " << e.name;
  }
  EXPECT_EQ(parsed, implemented);
}

TEST(FunctionTableParityTest, LookupFindsEveryFunction) {
  for (const FunctionSignature& f : AllFunctions()) {
    const FunctionEntry* e = LookupImplementation(f.name);
    ASSERT_NE(e, nullptr) << f.name;
    EXPECT_EQ(e->name, f.name);
  }
  EXPECT_EQ(LookupImplementation("no_such_function"), nullptr);
  EXPECT_EQ(LookupImplementation(""), nullptr);
}

bool HasArg(const FunctionSignature& f, ValueType type) {
  for (ValueType t : f.arg_types) {
    if (t == type) return true;
  }
  return false;
}

// Each implementation's shape agrees with what its signature says it reads
// and returns.
TEST(FunctionTableParityTest, ShapeMatchesSignature) {
  for (const FunctionEntry& e : FunctionImplementations()) {
    const FunctionSignature* f = LookupFunction(e.name);
    ASSERT_NE(f, nullptr) << e.name;
    switch (e.shape) {
      case FunctionShape::kElementwise:
        ASSERT_FALSE(f->arg_types.empty()) << e.name;
        EXPECT_EQ(f->arg_types[0], ValueType::kVector) << e.name;
        EXPECT_EQ(f->return_type, ValueType::kVector) << e.name;
        EXPECT_FALSE(HasArg(*f, ValueType::kMatrix)) << e.name;
        EXPECT_FALSE(HasArg(*f, ValueType::kString)) << e.name;
        break;
      case FunctionShape::kRangeOverTime:
        ASSERT_FALSE(f->arg_types.empty()) << e.name;
        EXPECT_EQ(f->arg_types[0] == ValueType::kMatrix ||
                      f->arg_types.back() == ValueType::kMatrix,
                  true)
            << e.name;
        EXPECT_EQ(f->return_type, ValueType::kVector) << e.name;
        break;
      case FunctionShape::kNoArg:
        EXPECT_TRUE(f->arg_types.empty()) << e.name;
        EXPECT_EQ(f->return_type, ValueType::kScalar) << e.name;
        break;
      case FunctionShape::kSpecial:
        EXPECT_FALSE(f->arg_types.empty()) << e.name;
        EXPECT_FALSE(HasArg(*f, ValueType::kMatrix)) << e.name;
        break;
    }
  }
}

// Every function taking a range vector is a range-over-time one.
TEST(FunctionTableParityTest, RangeArgumentMeansRangeShape) {
  for (const FunctionSignature& f : AllFunctions()) {
    if (!HasArg(f, ValueType::kMatrix)) continue;
    EXPECT_EQ(LookupImplementation(f.name)->shape,
              FunctionShape::kRangeOverTime)
        << f.name;
  }
}

}  // namespace
}  // namespace promeval::eval
