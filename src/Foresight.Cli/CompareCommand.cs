using System.CommandLine;
using System.Text.Json.Nodes;
using Foresight.Evaluation;
using Foresight.Methods;
using Foresight.Probes;
using Foresight.Reports;
using Foresight.Runs;
using Foresight.Training;
using Spectre.Console;

namespace Foresight.Cli;

internal static class CompareCommand
{
    /// <summary>Prompts grpo is trained on in a compare: RL steps cost G samples per prompt, so it sees far fewer prompts than the others see examples.</summary>
    private const int GrpoTrainSamples = 12_800;

    public static Command Create()
    {
        var command = new Command("compare", "Train several methods on the same data, seed and budget, and compare them");
        var methods = new Option<string>("--methods") { Description = "comma-separated methods", DefaultValueFactory = _ => "ntp,reverse,teacherless" };
        var seeds = new Option<int>("--seeds") { Description = "repeat with this many seeds (--seed, --seed + 1, ...) and report mean ± 95% CI", DefaultValueFactory = _ => 1 };
        var output = new Option<string?>("--out") { Description = "comparison directory, one run per method (and seed) inside (default: runs/compare-<time>)" };
        var probeExamples = new Option<int>("--probe-examples")
        {
            Description = $"fresh examples for each run's probes (0: clever-hans {new ProbeSizes().CleverHansExamples:N0}, plan {new ProbeSizes().PlanningExamples:N0})",
            DefaultValueFactory = _ => 0,
        };
        // grpo's batch is counted in prompts, not examples, so the compare's --batch-size and --lr never reach it
        var grpoOwn = MethodRegistry.WithOwnDefaults("grpo", new TrainingConfig(), batchSizeGiven: false, learningRateGiven: false);
        var grpoSamples = new Option<int>("--grpo-train-samples") { Description = "grpo in compare: prompts it is trained on (each answered --grpo-group-size times)", DefaultValueFactory = _ => GrpoTrainSamples };
        var grpoBatch = new Option<int>("--grpo-batch-size") { Description = "grpo in compare: prompts per optimizer step", DefaultValueFactory = _ => grpoOwn.BatchSize };
        var grpoLr = new Option<double>("--grpo-lr") { Description = "grpo in compare: peak learning rate", DefaultValueFactory = _ => grpoOwn.LearningRate };
        command.Options.Add(grpoSamples);
        command.Options.Add(grpoBatch);
        command.Options.Add(grpoLr);
        command.Options.Add(methods);
        command.Options.Add(probeExamples);
        command.Options.Add(seeds);
        command.Options.Add(output);
        var taskOptions = new TaskOptions(command);
        var trainingOptions = new TrainingOptions(command);

        command.SetAction(result =>
        {
            var names = TrainingOptions.ParseMethods(result.GetValue(methods)!);
            int seedCount = result.GetValue(seeds);
            if (seedCount < 1) throw new UserError($"--seeds must be at least 1, got {seedCount}");
            var task = taskOptions.Build(result);
            var model = trainingOptions.Model(result);
            var training = trainingOptions.Training(result);
            var methodOptions = trainingOptions.MethodOptions(result);
            string root = result.GetValue(output) ?? OutputPaths.Default("compare");
            var grpoTraining = training with { TrainSamples = result.GetValue(grpoSamples), BatchSize = result.GetValue(grpoBatch), LearningRate = result.GetValue(grpoLr) };
            var trainingOf = names.ToDictionary(name => name, name => name == "grpo" ? grpoTraining : trainingOptions.Training(result, name));
            if (names.Contains("grpo"))
            {
                if (Array.IndexOf(names, "ntp") is var ntpIndex && (ntpIndex < 0 || ntpIndex > Array.IndexOf(names, "grpo")))
                    throw new UserError("compare fine-tunes grpo from its own ntp run: put ntp before grpo in --methods");
                if (methodOptions.GrpoInit is not null) throw new UserError("compare starts grpo from its ntp run; --init is for train --method grpo");
                grpoTraining.Validate();
            }
            foreach (string name in names.Where(n => n != "grpo")) // grpo's build needs the ntp run it starts from
                Trainer.CheckBuilds(new RunConfig(name, task.ToJson(), model, trainingOf[name], methodOptions), task);
            RunDirectory.Create(root); // refuses a non-empty directory before any training starts

            int probeCount = result.GetValue(probeExamples);
            if (probeCount is < 0 or 1) throw new UserError($"--probe-examples must be 0 (the defaults) or at least 2, got {probeCount}");
            var probeSizes = probeCount == 0 ? new ProbeSizes() : new ProbeSizes(probeCount, probeCount);

            var seedList = Enumerable.Range(training.Seed, seedCount).ToList();
            AnsiConsole.MarkupLine($"[bold]{Markup.Escape(task.Description)}[/]: {string.Join(", ", names)}; " +
                                   $"{model.Layers} layers x {model.Width} wide; {training.TrainSamples:N0} samples x {training.Epochs} epoch(s); " +
                                   $"seed {string.Join(", ", seedList)} -> {Markup.Escape(root)}");
            foreach (string name in names.Where(n => trainingOf[n].BatchSize != training.BatchSize || trainingOf[n].LearningRate != training.LearningRate))
                AnsiConsole.MarkupLine($"[grey]{name} trains at batch {trainingOf[name].BatchSize}, lr {trainingOf[name].LearningRate}[/]");
            var runs = new List<(string Path, RunResult Result)>();
            foreach (int seed in seedList)
            {
                var seeded = training with { Seed = seed };
                var (train, test) = Trainer.MakeData(task, seeded);
                using (train)
                using (test)
                {
                    string RunPath(string name) => seedCount == 1 ? Path.Combine(root, name) : Path.Combine(root, name, $"seed-{seed}");
                    foreach (string name in names)
                    {
                        var run = RunDirectory.Create(RunPath(name));
                        if (name == "grpo")
                        {
                            var config = new RunConfig(name, task.ToJson(), model, trainingOf[name] with { Seed = seed },
                                methodOptions with { GrpoInit = Path.GetFullPath(RunPath("ntp")) });
                            using var prompts = Trainer.MakeTrainingSet(task, config.Training); // the first graphs of the seed's training stream
                            runs.Add((run.Path, TrainingView.Train(config, task, prompts, test, run)));
                            continue;
                        }
                        runs.Add((run.Path, TrainingView.Train(new RunConfig(name, task.ToJson(), model, trainingOf[name] with { Seed = seed }, methodOptions), task, train, test, run)));
                    }
                }
            }

            foreach (var (path, _) in runs)
                ProbeSuite.Run(RunDirectory.Open(path), probeSizes, log: line => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(line)}[/]"));

            if (seedCount == 1) Tables.Print(task, runs);
            else Tables.PrintAcrossSeeds(task, names, seedList, runs);
            var comparison = new JsonObject
            {
                ["task"] = task.ToJson(),
                ["model"] = Json.ToObject(model),
                ["training"] = Json.ToObject(training), // the flags; a method's own batch size and rate are in its entry
                ["options"] = Json.ToObject(methodOptions),
                ["seeds"] = new JsonArray(seedList.Select(s => (JsonNode)s).ToArray()),
                ["methods"] = new JsonArray(names.Select(name => (JsonNode)Json.Merge(
                    new JsonObject { ["method"] = name, ["batch_size"] = trainingOf[name].BatchSize, ["learning_rate"] = trainingOf[name].LearningRate },
                    Statistics.AcrossSeeds(runs.Where(r => r.Result.Training.Method == name).Select(r => r.Result.ToJson()).ToList()))).ToArray()),
                ["runs"] = new JsonArray(runs.Select(r => (JsonNode)Json.Merge(new JsonObject { ["run"] = r.Path }, r.Result.ToJson(),
                    new JsonObject { ["probes"] = new JsonObject(RunDirectory.Open(r.Path).ReadProbes().Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value.DeepClone()))) })).ToArray()),
            };
            string file = Path.Combine(root, "comparison.json");
            Json.WriteAtomic(file, comparison);
            AnsiConsole.MarkupLine($"wrote {Markup.Escape(file)}");
            ReportCommand.Write(ReportRun.Find([root]), root, overwrite: false);
            return 0;
        });
        return command;
    }
}
