using System.CommandLine;
using System.Text.Json.Nodes;
using Foresight.Methods;
using Foresight.Runs;
using Foresight.Training;
using Spectre.Console;

namespace Foresight.Cli;

internal static class CompareCommand
{
    public static Command Create()
    {
        var command = new Command("compare", "Train several methods on the same data, seed and budget, and compare them");
        var methods = new Option<string>("--methods") { Description = "comma-separated methods", DefaultValueFactory = _ => "ntp,reverse,teacherless" };
        var output = new Option<string?>("--out") { Description = "comparison directory, one run per method inside (default: runs/compare-<time>)" };
        command.Options.Add(methods);
        command.Options.Add(output);
        var taskOptions = new TaskOptions(command);
        var trainingOptions = new TrainingOptions(command);

        command.SetAction(result =>
        {
            var names = result.GetValue(methods)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (names.Length == 0) throw new UserError("--methods is empty");
            foreach (string name in names) MethodRegistry.Validate(name);
            if (names.Distinct().Count() != names.Length) throw new UserError($"--methods names a method twice: {result.GetValue(methods)}");
            var task = taskOptions.Build(result);
            var model = trainingOptions.Model(result);
            var training = trainingOptions.Training(result);
            string root = result.GetValue(output) ?? OutputPaths.Default("compare");
            RunDirectory.Create(root); // refuses a non-empty directory before any training starts

            AnsiConsole.MarkupLine($"[bold]{Markup.Escape(task.Description)}[/]: {string.Join(", ", names)}; " +
                                   $"{model.Layers} layers x {model.Width} wide; {training.TrainSamples:N0} samples x {training.Epochs} epoch(s); seed {training.Seed} -> {Markup.Escape(root)}");
            var (train, test) = Trainer.MakeData(task, training);
            var runs = new List<(string Path, RunResult Result)>();
            using (train)
            using (test)
            {
                foreach (string name in names)
                {
                    var run = RunDirectory.Create(Path.Combine(root, name));
                    runs.Add((run.Path, TrainingView.Train(new RunConfig(name, task.ToJson(), model, training), task, train, test, run)));
                }
            }

            Tables.Print(task, runs);
            var comparison = new JsonObject
            {
                ["task"] = task.ToJson(),
                ["model"] = Json.ToObject(model),
                ["training"] = Json.ToObject(training),
                ["runs"] = new JsonArray(runs.Select(r => (JsonNode)Json.Merge(new JsonObject { ["run"] = r.Path }, r.Result.ToJson())).ToArray()),
            };
            string file = Path.Combine(root, "comparison.json");
            Json.WriteAtomic(file, comparison);
            AnsiConsole.MarkupLine($"wrote {Markup.Escape(file)}");
            return 0;
        });
        return command;
    }
}
