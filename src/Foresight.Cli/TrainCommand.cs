using System.CommandLine;
using Foresight.Methods;
using Foresight.Runs;
using Foresight.Tasks;
using Foresight.Training;
using Spectre.Console;

namespace Foresight.Cli;

internal static class TrainCommand
{
    public static Command Create()
    {
        var command = new Command("train", "Train one method on one task and save the run");
        var method = new Option<string>("--method") { Description = $"training method: {string.Join(", ", MethodRegistry.Names)}", DefaultValueFactory = _ => "ntp" };
        var output = new Option<string?>("--out") { Description = "run directory (default: runs/<method>-<time>); must not exist or be empty" };
        var resume = new Option<string?>("--resume") { Description = "continue the run in this directory from its last checkpoint (other flags are taken from its config.json)" };
        command.Options.Add(method);
        command.Options.Add(output);
        command.Options.Add(resume);
        var taskOptions = new TaskOptions(command);
        var trainingOptions = new TrainingOptions(command);

        command.SetAction(result =>
        {
            if (result.GetValue(resume) is { } resumeDirectory) return Resume(resumeDirectory);
            string methodName = result.GetValue(method)!;
            MethodRegistry.Validate(methodName);
            var task = taskOptions.Build(result);
            var config = new RunConfig(methodName, task.ToJson(), trainingOptions.Model(result), trainingOptions.Training(result, methodName), trainingOptions.MethodOptions(result));
            Trainer.CheckBuilds(config, task);
            var run = RunDirectory.Create(result.GetValue(output) ?? OutputPaths.Default(methodName));
            Tables.Print(task, [(run.Path, TrainingView.Train(config, task, run))]);
            return 0;
        });
        return command;
    }

    private static int Resume(string directory)
    {
        var run = RunDirectory.Open(directory);
        if (File.Exists(run.SummaryFile)) throw new UserError($"run '{directory}' already finished (it has a summary.json); nothing to resume");
        var config = run.ReadConfig();
        var task = TaskRegistry.FromJson(config.Task);
        Tables.Print(task, [(run.Path, TrainingView.Train(config, task, run, resume: true))]);
        return 0;
    }
}
