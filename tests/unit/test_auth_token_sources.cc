// TokenSource implementations the Kubernetes client relies on: a token file re-read on every
// call (renewed Secrets take effect), a static token that cannot come back after a 401.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "krdc/auth/token_source.h"
#include "krdc/util/errors.h"

using namespace krdc::auth;

TEST_CASE("auth: a token file is re-read on every call") {
  char tmpl[] = "/tmp/krdc-token-file-XXXXXX";
  std::filesystem::path dir = ::mkdtemp(tmpl);
  auto path = dir / "token";
  std::ofstream(path) << "first-token\n";
  FileTokenSource src(path.string());
  CHECK(src.token() == "first-token");
  std::ofstream(path) << "  renewed-token \n";
  CHECK(src.token() == "renewed-token");
  CHECK(src.describe().find("first-token") == std::string::npos);
  std::ofstream(path) << "\n";
  CHECK_THROWS_AS(src.token(), krdc::AuthError);
  std::filesystem::remove(path);
  CHECK_THROWS_AS(src.token(), krdc::AuthError);
  std::filesystem::remove_all(dir);
}

TEST_CASE("auth: a static token is served until the server rejects it") {
  StaticTokenSource src("fixed-secret-token", "KRDC_TOKEN");
  CHECK(src.token() == "fixed-secret-token");
  src.invalidate();
  try {
    src.token();
    FAIL("expected AuthError");
  } catch (const krdc::AuthError& e) {
    CHECK(std::string(e.what()).find("fixed-secret-token") == std::string::npos);
    CHECK(std::string(e.what()).find("KRDC_TOKEN") != std::string::npos);
  }
}
