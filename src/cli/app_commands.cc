// `krdc app inspect main.py`: print a krdc-app.yaml derived from the program's argparse.
#include <iostream>

#include <nlohmann/json.hpp>

#include "krdc/cli/commands.h"
#include "krdc/workflow/app_inspect.h"

namespace krdc::cli {

void add_app_commands(CLI::App& app, GlobalOptions& global, Action& action) {
  auto* group = app.add_subcommand("app", "Work with app descriptors (krdc-app.yaml)");
  group->require_subcommand(1);
  group->footer(R"(Examples:
  krdc app inspect apps/regrid/main.py > apps/regrid/krdc-app.yaml
  krdc app inspect main.py --image reg.example/regrid:1 --output-name grid
  krdc app inspect main.py -o json)");
  auto script = std::make_shared<std::string>();
  auto options = std::make_shared<workflow::InspectOptions>();
  auto* inspect = group->add_subcommand("inspect", "Derive an app descriptor from a Python argparse program");
  inspect->add_option("script", *script, "The program's main .py file")->required();
  inspect->add_option("--name", options->name, "App name (default: the script's directory name)");
  inspect->add_option("--image", options->image, "Container image that runs this app on clusters");
  inspect->add_option("--output-name", options->outputs, "An output the app writes to $KRDC_OUTPUTS (repeatable)");
  inspect->add_option("--python", options->python, "Python interpreter to ask (default: python3)");
  inspect->footer(R"(Examples:
  krdc app inspect apps/regrid/main.py --image reg.example/regrid:1 > apps/regrid/krdc-app.yaml
  krdc app inspect main.py -o json

krdc runs the program up to its parse_args() call with a shim that reads the parser's
arguments (names, types, defaults, choices, nargs, help, actions, mutually exclusive groups)
and stops: no regex guessing. Sub-commands (subparsers) and custom actions are refused.)");
  inspect->callback([&global, &action, script, options] {
    action = [&global, script, options] {
      if (global.interrupts) options->cancel = &global.interrupts->abort();  // Ctrl-C stops the program
      const auto described = workflow::inspect_python_app(*script, *options);
      // The descriptor is YAML already: text and -o yaml print it; -o json its JSON form.
      if (global.output == "json") {
        nlohmann::json params = nlohmann::json::array();
        for (const auto& p : described.params) {
          params.push_back({{"name", p.name}, {"flag", p.flag}, {"type", workflow::to_string(p.type)},
                            {"required", p.required}, {"default", p.default_value}, {"nargs", p.nargs},
                            {"choices", p.choices}, {"help", p.help}, {"append", p.append}, {"count", p.count}});
        }
        nlohmann::json exclusive = nlohmann::json::array();
        for (const auto& g : described.exclusive) exclusive.push_back({{"params", g.params}, {"required", g.required}});
        std::cout << nlohmann::json{{"name", described.name}, {"image", described.image},
                                    {"command", described.command}, {"params", params}, {"exclusive", exclusive}}
                         .dump(2)
                  << "\n";
      } else {
        std::cout << workflow::app_to_yaml(described);
      }
      return 0;
    };
  });
}

}  // namespace krdc::cli
