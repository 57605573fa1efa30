using System.CommandLine;
using System.CommandLine.Parsing;
using Foresight.Methods;
using Foresight.Runs;
using Foresight.Tasks;
using Foresight.Training;

namespace Foresight.Cli;

internal static class TrainCommand
{
    public static Command Create()
    {
        var command = new Command("train", "Train one method on one task and save the run");
        var method = new Option<string>("--method") { Description = $"training method: {string.Join(", ", MethodRegistry.Names)}", DefaultValueFactory = _ => "ntp" };
        var output = new Option<string?>("--out") { Description = "run directory (default: runs/<method>-<time>); must not exist or be empty" };
        var resume = new Option<string?>("--resume") { Description = "continue the run in this directory from its last checkpoint (other flags are taken from its config.json)" };
        var config = new Option<string?>("--config") { Description = "train exactly the run a config.json describes (another run's, to reproduce it); takes no other flag but --out" };
        command.Options.Add(method);
        command.Options.Add(output);
        command.Options.Add(resume);
        command.Options.Add(config);
        var taskOptions = new TaskOptions(command);
        var trainingOptions = new TrainingOptions(command);
        var table = new TableFlags(command);

        command.SetAction(result =>
        {
            bool wide = result.GetValue(table.Wide);
            if (result.GetValue(resume) is { } resumeDirectory) return Resume(resumeDirectory, wide);
            if (result.GetValue(config) is { } configFile) return FromConfig(result, configFile, result.GetValue(output), wide, allowed: [output, config, table.Wide]);
            string methodName = result.GetValue(method)!;
            MethodRegistry.Validate(methodName);
            var task = taskOptions.Build(result);
            var model = trainingOptions.Model(result);
            var methodOptions = trainingOptions.MethodOptions(result, methodName);
            if (methodOptions is GrpoOptions { Init: { } init } && StartingRun(init) is { } start)
            {
                if (!taskOptions.AnyGiven(result)) task = start.Task;
                if (!trainingOptions.AnyModelFlagGiven(result)) model = start.Model;
            }
            var runConfig = new RunConfig(methodName, task, model, trainingOptions.Training(result, methodName), methodOptions);
            return Train(runConfig, result.GetValue(output) ?? OutputPaths.Default(methodName), wide);
        });
        return command;
    }

    /// <summary>
    /// The config of the run grpo starts from, whose task and model it keeps unless flags name others (which
    /// grpo then refuses, naming the difference); null when there is none to read, which grpo reports itself.
    /// </summary>
    private static RunConfig? StartingRun(string init) =>
        File.Exists(Path.Combine(init, RunDirectory.ConfigFileName)) ? RunDirectory.Open(init).ReadConfig() : null;

    private static int Train(RunConfig config, string directory, bool wide)
    {
        Trainer.CheckBuilds(config);
        var run = RunDirectory.Create(directory);
        Tables.Print(config, run.Path, TrainingView.Train(config, run), wide);
        return 0;
    }

    private static int FromConfig(ParseResult result, string file, string? output, bool wide, IReadOnlyList<Option> allowed)
    {
        if (result.CommandResult.Children.OfType<OptionResult>().FirstOrDefault(o => !o.Implicit && !allowed.Contains(o.Option)) is { } other)
            throw new UserError($"--config takes every setting from {file}; drop {other.Option.Name}");
        if (!File.Exists(file)) throw new UserError($"config file '{file}' does not exist");
        var runConfig = RunConfig.Load(file);
        try
        {
            runConfig.Training.Validate();
            runConfig.Model.Validate();
            return Train(runConfig, output ?? OutputPaths.Default(runConfig.Method), wide);
        }
        catch (ConfigError e) { throw new UserError($"{file}: {e.Message}"); }
    }

    private static int Resume(string directory, bool wide)
    {
        var run = RunDirectory.Open(directory);
        if (File.Exists(run.SummaryFile)) throw new UserError($"run '{directory}' already finished (it has a summary.json); nothing to resume");
        var config = run.ReadConfig();
        AtomicFile.RemoveLeftovers(run.Path);
        Tables.Print(config, run.Path, TrainingView.Train(config, run, resume: !run.NeverTrained()), wide);
        return 0;
    }
}
