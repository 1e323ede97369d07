//===- VerifyTest.cpp - clang -verify for .nn files -----------------------===//

#include "FrontendTestUtil.h"

#include <gtest/gtest.h>

using namespace nn;
using namespace nn::test;

namespace {

/// Parses `text` and verifies its diagnostics; `report` gets mismatches.
bool verify(const std::string &text, std::string *report = nullptr) {
  auto p = parseText(text);
  std::ostringstream os;
  bool ok = verifyDiagnostics("m.nn", text, p->diags, os);
  if (report)
    *report = os.str();
  return ok;
}

const char *kHead = "input x : f32[2]\nlabel y : binary\n";

} // namespace

TEST(Verify, SameLineDirective) {
  EXPECT_TRUE(verify(std::string(kHead) +
                     "h = dense(x, 0)  # expected-error {{layer size}}\n"
                     "loss bce(x, y)\n"));
}

TEST(Verify, RelativeAndAbsoluteLines) {
  EXPECT_TRUE(verify(std::string(kHead) +
                     "# expected-error@+1 {{unknown function 'foo'}}\n"
                     "a = foo(x)\n"
                     "b = bar(x)\n"
                     "# expected-error@-1 {{unknown function 'bar'}}\n"
                     "# expected-error@8 {{unknown function 'baz'}}\n"
                     "c = baz(x)\n"
                     "loss bce(x, y)\n"));
}

TEST(Verify, SeveralDirectivesOnOneLine) {
  EXPECT_TRUE(verify(std::string(kHead) + "loss bce(x, y)\ntrain {\n"
                                          "  batch 0 epochs 0 # expected-error "
                                          "{{batch}} expected-error {{epochs}}"
                                          "\n}\n"));
}

TEST(Verify, MissingDiagnosticIsReported) {
  std::string report;
  EXPECT_FALSE(
      verify(std::string(kHead) +
                 "loss bce(x, y)  # expected-error {{no such thing}}\n",
             &report));
  EXPECT_EQ(report, "error: 'expected-error' diagnostics expected but not "
                    "seen:\n  File m.nn Line 3: no such thing\n");
}

TEST(Verify, UnexpectedDiagnosticIsReported) {
  std::string report;
  EXPECT_FALSE(
      verify(std::string(kHead) + "a = foo(x)\nloss bce(x, y)\n", &report));
  EXPECT_EQ(report, "error: 'expected-error' diagnostics seen but not "
                    "expected:\n  File m.nn Line 3: unknown function 'foo'\n");
}

TEST(Verify, WrongLineIsAMismatch) {
  std::string report;
  EXPECT_FALSE(verify(std::string(kHead) +
                          "# expected-error {{unknown function 'foo'}}\n"
                          "a = foo(x)\nloss bce(x, y)\n",
                      &report));
  EXPECT_NE(report.find("expected but not seen"), std::string::npos);
  EXPECT_NE(report.find("seen but not expected"), std::string::npos);
}

TEST(Verify, EachDirectiveMatchesOnce) {
  // Two errors on one line need two directives.
  std::string report;
  EXPECT_FALSE(verify(std::string(kHead) +
                          "a = foo(x) + foo(x) # expected-error {{foo}}\n"
                          "loss bce(x, y)\n",
                      &report));
  EXPECT_TRUE(verify(std::string(kHead) +
                     "a = foo(x) + foo(x) # expected-error {{foo}} "
                     "expected-error {{foo}}\nloss bce(x, y)\n"));
}

TEST(Verify, CleanFileWithoutDirectives) {
  EXPECT_TRUE(verify(std::string(kHead) + "loss bce(x, y)\n"));
}

TEST(Verify, WarningsAreCheckedApart) {
  DiagEngine diags;
  std::string text = "a\nb # expected-warning {{careful}}\n";
  diags.warning({"m.nn", 2, 1, 1}, "be careful here");
  std::ostringstream os;
  EXPECT_TRUE(verifyDiagnostics("m.nn", text, diags, os));
  // An error with the same text does not satisfy a warning directive.
  DiagEngine errs;
  errs.error({"m.nn", 2, 1, 1}, "be careful here");
  EXPECT_FALSE(verifyDiagnostics("m.nn", text, errs, os));
}

TEST(Verify, MalformedDirective) {
  std::string report;
  EXPECT_FALSE(verify(std::string(kHead) +
                          "loss bce(x, y)  # expected-error {{unclosed\n",
                      &report));
  EXPECT_EQ(report, "m.nn:3: error: malformed 'expected-error' directive: "
                    "expected '{{text}}'\n");
}
