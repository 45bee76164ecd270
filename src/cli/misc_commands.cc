// `krdc version`, `krdc completion SHELL`.
#include <iostream>

#include <nlohmann/json.hpp>

#include "krdc/cli/commands.h"
#include "krdc/cli/output.h"
#include "krdc/completions_gen.h"
#include "krdc/version.h"

namespace krdc::cli {

void add_misc_commands(CLI::App& app, GlobalOptions& global, Action& action) {
  auto* ver = app.add_subcommand("version", "Print krdc's version");
  ver->footer("Examples:\n  krdc version -o json\n  krdc --version");
  ver->callback([&global, &action] {
    action = [&global] {
      if (is_data_format(global.output)) {
        print_data(std::cout, {{"krdc", KRDC_VERSION}}, global.output);
      } else {
        std::cout << "krdc " << KRDC_VERSION << "\n";
      }
      return 0;
    };
  });

  auto shell = std::make_shared<std::string>();
  auto* comp = app.add_subcommand("completion", "Print a shell completion script");
  comp->add_option("shell", *shell, "bash, zsh or fish")->required()->check(CLI::IsMember({"bash", "zsh", "fish"}));
  comp->footer(R"(Examples:
  source <(krdc completion bash)
  krdc completion zsh > "${fpath[1]}/_krdc"
  krdc completion fish > ~/.config/fish/completions/krdc.fish)");
  comp->callback([&action, shell] {
    action = [shell] {
      if (*shell == "bash") std::cout << completions::kBash;
      if (*shell == "zsh") std::cout << completions::kZsh;
      if (*shell == "fish") std::cout << completions::kFish;
      return 0;
    };
  });
}

}  // namespace krdc::cli
