using System.CommandLine;
using System.Text.Json.Nodes;
using Foresight.Experiments;
using Foresight.Methods;
using Foresight.Probes;
using Foresight.Runs;
using Foresight.Training;
using Spectre.Console;

namespace Foresight.Cli;

/// <summary>
/// The main job: several methods on the same data, seed and budget, each run probed, one table and a report.
/// A plan of one cell per method and seed (root/METHOD, or root/METHOD/seed-S with several seeds), run by the
/// one executor, so a killed compare rerun with the same --out resumes where it stopped.
/// </summary>
internal static class CompareCommand
{
    /// <summary>Prompts grpo is trained on in a compare: RL steps cost G samples per prompt, so it sees far fewer prompts than the others see examples.</summary>
    private const int GrpoTrainSamples = 12_800;

    public static Command Create()
    {
        var command = new Command("compare", "Train several methods on the same data, seed and budget, and compare them (rerun with the same --out to resume)");
        var methods = new Option<string>("--methods") { Description = "comma-separated methods", DefaultValueFactory = _ => "ntp,reverse,teacherless" };
        var seeds = new Option<int>("--seeds") { Description = "repeat with this many seeds (--seed, --seed + 1, ...) and report mean ± 95% CI", DefaultValueFactory = _ => 1 };
        var output = new Option<string?>("--out") { Description = "comparison directory, one run per method (and seed) inside (default: runs/compare-<time>); an unfinished one is resumed" };
        var probeExamples = new Option<int>("--probe-examples")
        {
            Description = $"fresh examples for each run's probes (0: clever-hans {new ProbeSizes().CleverHansExamples:N0}, plan {new ProbeSizes().PlanningExamples:N0})",
            DefaultValueFactory = _ => 0,
        };
        // grpo's batch is counted in prompts, not examples, so the compare's --batch-size and --lr never reach it
        var grpoOwn = new TrainingConfig().WithOwnDefaults("grpo", batchSizeGiven: false, learningRateGiven: false);
        var grpoSamples = new Option<int>("--grpo-train-samples") { Description = "grpo in compare: prompts it is trained on (each answered --grpo-group-size times)", DefaultValueFactory = _ => GrpoTrainSamples };
        var grpoBatch = new Option<int>("--grpo-batch-size") { Description = "grpo in compare: prompts per optimizer step", DefaultValueFactory = _ => grpoOwn.BatchSize };
        var grpoLr = new Option<double>("--grpo-lr") { Description = "grpo in compare: peak learning rate", DefaultValueFactory = _ => grpoOwn.LearningRate };
        foreach (var option in new Option[] { grpoSamples, grpoBatch, grpoLr, methods, probeExamples, seeds, output }) command.Options.Add(option);
        var taskOptions = new TaskOptions(command);
        var trainingOptions = new TrainingOptions(command);
        var slurm = new SlurmExecutor.Flags(command);
        var table = new TableFlags(command);

        command.SetAction(result =>
        {
            var names = TrainingOptions.ParseMethods(result.GetValue(methods)!);
            int seedCount = result.GetValue(seeds);
            if (seedCount < 1) throw new UserError($"--seeds must be at least 1, got {seedCount}");
            var task = taskOptions.Build(result);
            var model = trainingOptions.Model(result);
            var training = trainingOptions.Training(result);
            var optionsOf = trainingOptions.MethodOptions(result, names);
            string root = result.GetValue(output) ?? OutputPaths.Default("compare");
            var grpoTraining = training with { TrainSamples = result.GetValue(grpoSamples), BatchSize = result.GetValue(grpoBatch), LearningRate = result.GetValue(grpoLr) };
            var trainingOf = names.ToDictionary(name => name, name => name == "grpo" ? grpoTraining : trainingOptions.Training(result, name));
            if (names.Contains("grpo"))
            {
                if (Array.IndexOf(names, "ntp") is var ntpIndex && (ntpIndex < 0 || ntpIndex > Array.IndexOf(names, "grpo")))
                    throw new UserError("compare fine-tunes grpo from its own ntp run: put ntp before grpo in --methods");
                if (optionsOf["grpo"] is GrpoOptions { Init: not null }) throw new UserError("compare starts grpo from its ntp run; --init is for train --method grpo");
                grpoTraining.Validate();
            }
            int probeCount = result.GetValue(probeExamples);
            if (probeCount is < 0 or 1) throw new UserError($"--probe-examples must be 0 (the defaults) or at least 2, got {probeCount}");
            var probeSizes = probeCount == 0 ? new ProbeSizes() : new ProbeSizes(probeCount, probeCount);

            var seedList = Enumerable.Range(training.Seed, seedCount).ToList();
            string CellId(string name, int seed) => seedCount == 1 ? name : Path.Combine(name, $"seed-{seed}");
            var cells = (from seed in seedList
                         from name in names
                         let options = optionsOf[name] is GrpoOptions grpo ? grpo with { Init = Path.GetFullPath(Path.Combine(root, CellId("ntp", seed))) } : optionsOf[name]
                         select new ExperimentCell(CellId(name, seed), name,
                             new RunConfig(name, task, model, trainingOf[name] with { Seed = seed }, options),
                             StartsFrom: name == "grpo" ? CellId("ntp", seed) : null)).ToList();

            AnsiConsole.MarkupLine($"[bold]{Markup.Escape(task.Build().Description)}[/]: {string.Join(", ", names)}; " +
                                   $"{model.Layers} layers x {model.Width} wide; {training.TrainSamples:N0} samples x {training.Epochs} epoch(s); " +
                                   $"seed {string.Join(", ", seedList)} -> {Markup.Escape(root)}");
            foreach (string name in names.Where(n => trainingOf[n].BatchSize != training.BatchSize || trainingOf[n].LearningRate != training.LearningRate))
                AnsiConsole.MarkupLine($"[grey]{name} trains at batch {trainingOf[name].BatchSize}, lr {trainingOf[name].LearningRate}[/]");

            var plan = new Plan("compare", cells, new JsonObject
            {
                ["task"] = task.ToJson(),
                ["model"] = Json.ToObject(model),
                ["training"] = Json.ToObject(training), // the flags; a method's own batch size and rate are in its group
                ["seeds"] = new JsonArray([.. seedList.Select(s => (JsonNode)s)]),
            }, probeSizes);
            return Experiment.Run(root, plan, slurm, result, result.GetValue(table.Wide));
        });
        return command;
    }
}
