using System.CommandLine;
using System.Text.Json.Nodes;
using Foresight.Probes;
using Foresight.Runs;
using Spectre.Console;

namespace Foresight.Cli;

internal static class ProbeCommand
{
    public static Command Create()
    {
        var command = new Command("probe", "Diagnostics of a saved run: why it fails or plans. Each writes probe-<name>.json into the run");
        command.Subcommands.Add(Probe(CleverHansProbe.Name, "force a wrong first decision and measure how often the model follows the wrong arm; teacher-forced accuracy per position"));
        command.Subcommands.Add(Probe(IndecipherableProbe.Name, "first-decision accuracy against chance (1/d) over training, from metrics.jsonl"));
        command.Subcommands.Add(Probe(DecodeOrderProbe.Name, "diffusion: the mean step at which the sampler commits each target position"));
        command.Subcommands.Add(Probe(DecodeStepsProbe.Name, "diffusion: exact match on the test set for each sampler at K = 1, 2, 5 and one step per target token"));
        command.Subcommands.Add(Probe(PlanningProbe.Name, "linear probe per layer at '=' for the first decision node: is the plan represented before it is written?"));
        command.Subcommands.Add(Probe(SearchProbe.Name, $"decode with the task's verifier: greedy, best of {SearchProbe.Samples} samples, backtracking; accuracy and tokens written per instance"));
        command.Subcommands.Add(Probe("all", "every probe that applies to the run's method"));
        return command;
    }

    private static Command Probe(string name, string description)
    {
        var command = new Command(name, description);
        var runOption = new Option<string>("--run") { Description = "run directory", Required = true };
        var examples = new Option<int?>("--examples") { Description = $"fresh examples to probe on (default: clever-hans {new ProbeSizes().CleverHansExamples:N0}, plan {new ProbeSizes().PlanningExamples:N0})" };
        command.Options.Add(runOption);
        if (name is not (IndecipherableProbe.Name or DecodeStepsProbe.Name)) command.Options.Add(examples);
        command.SetAction(result =>
        {
            var run = RunDirectory.Open(result.GetValue(runOption)!);
            var sizes = new ProbeSizes();
            if (result.GetValue(examples) is { } count)
            {
                if (count < 2) throw new UserError($"--examples must be at least 2, got {count}");
                sizes = new ProbeSizes(count, count);
            }
            var written = ProbeSuite.Run(run, sizes, name == "all" ? null : name, line => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(line)}[/]"));
            foreach (var (probe, json) in written) Print(probe, json);
            return 0;
        });
        return command;
    }

    public static void Print(string probe, JsonObject json)
    {
        string Pct(string key) => $"{100 * json[key]!.GetValue<double>():F1}%";
        string Row(JsonNode? array) => string.Join("  ", array!.AsArray().Select(v => $"{100 * v!.GetValue<double>():F1}"));
        var table = new Table().Title($"{probe}: {Markup.Escape(json["method"]!.ToString())} on {Markup.Escape(json["task"]!.ToString())}")
            .AddColumn("measure").AddColumn(new TableColumn("value").RightAligned());
        switch (probe)
        {
            case CleverHansProbe.Name:
                table.AddRow("follows the forced wrong arm to its end", $"{Pct("follow_rate")} of {json["forced_continuations"]:N0}");
                table.AddRow("follows it at every step before the last", Pct("follow_rate_before_last"));
                table.AddRow("ends with the goal token anyway", Pct("ends_at_goal_rate"));
                table.AddRow($"follow rate by position ({json["first_free_position"]}..)", Row(json["follow_rate_by_position"]));
                table.AddRow("teacher-forced, first decision", Pct("first_decision_teacher_forced"));
                table.AddRow("teacher-forced, later positions", Pct("later_teacher_forced"));
                table.AddRow("teacher-forced by position", Row(json["teacher_forced_by_position"]));
                break;
            case IndecipherableProbe.Name:
                table.AddRow("first decision, final", $"{Pct("final_accuracy")} on {json["final_examples"]:N0}");
                table.AddRow("chance (1/d)", $"{Pct("chance")} ± {100 * json["final_margin95"]!.GetValue<double>():F1}");
                table.AddRow("indistinguishable from chance", json["final_at_chance"]!.GetValue<bool>() ? "yes" : "no");
                table.AddRow("peak during training", Pct("peak_accuracy"));
                table.AddRow("first decision given the true earlier tokens, final", Pct("final_teacher_forced"));
                break;
            case DecodeOrderProbe.Name:
                table.AddRow("sampler, steps", $"{json["sampler"]}, {json["steps"]}");
                table.AddRow("mean commit step by position", string.Join("  ", json["mean_commit_step"]!.AsArray().Select(v => $"{v!.GetValue<double>():F2}")));
                table.AddRow("accuracy by position", Row(json["accuracy_by_position"]));
                break;
            case DecodeStepsProbe.Name:
                foreach (var point in json["points"]!.AsArray())
                    table.AddRow($"{point!["sampler"]}, K = {point["steps"]}",
                        $"exact {Markup.Escape(Format.Proportion(point["exact_match"]!.GetValue<double>(), json["examples"]!.GetValue<int>()))}, " +
                        $"first decision {100 * point["first_decision_accuracy"]!.GetValue<double>():F1}%");
                table.Caption($"{json["examples"]:N0} test examples");
                break;
            case PlanningProbe.Name:
                table.AddColumn(new TableColumn("node (any label)").RightAligned()).AddColumn(new TableColumn("shuffled labels").RightAligned())
                    .AddColumn(new TableColumn("control: goal").RightAligned());
                table.Columns[1].Header = new Markup("branch (chance " + Pct("chance") + ")");
                foreach (var layer in json["layers"]!.AsArray())
                {
                    int index = layer!["layer"]!.GetValue<int>();
                    table.AddRow(index == 0 ? "embeddings" : $"after block {index}",
                        $"{100 * layer["branch_accuracy"]!.GetValue<double>():F1}%",
                        $"{100 * layer["node_accuracy"]!.GetValue<double>():F1}%",
                        $"{100 * layer["shuffled_branch_accuracy"]!.GetValue<double>():F1}%",
                        $"{100 * layer["goal_accuracy"]!.GetValue<double>():F1}%");
                }
                table.Caption($"linear probe at '=', fitted on {json["train_examples"]:N0} examples, scored on {json["held_out_examples"]:N0} held out");
                break;
            case SearchProbe.Name:
                table.AddColumn(new TableColumn("tokens / instance").RightAligned()).AddColumn(new TableColumn("model calls / instance").RightAligned());
                table.Columns[1].Header = new Markup("exact match");
                foreach (string decoder in new[] { "greedy", "best_of_k", "backtrack" })
                {
                    var m = json[decoder]!;
                    table.AddRow(m["decode"]!.GetValue<string>(), Markup.Escape(Format.Proportion(m["exact_match"]!.GetValue<double>(), m["examples"]!.GetValue<int>())),
                        $"{m["tokens_per_instance"]!.GetValue<double>():F2}", $"{m["model_calls_per_instance"]!.GetValue<double>():F2}");
                }
                table.Caption($"{json["examples"]:N0} fresh examples; samples at temperature 1, the verifier picks; " +
                              $"{100 * json["best_of_k"]!["sample_acceptance"]!.GetValue<double>():F1}% of single samples are right");
                break;
        }
        AnsiConsole.Write(table);
    }
}
