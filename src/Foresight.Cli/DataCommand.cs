using System.CommandLine;
using Foresight.Tasks;
using Spectre.Console;

namespace Foresight.Cli;

internal static class DataCommand
{
    public static Command Create()
    {
        var command = new Command("data", "Write task examples in the reference line format (a,b|c,d/s,g=path)");
        var count = new Option<int>("--count") { Description = "examples to write", DefaultValueFactory = _ => 1000 };
        var seed = new Option<int>("--seed") { Description = "generation seed", DefaultValueFactory = _ => 0 };
        var output = new Option<string>("--out") { Description = "file to write; must not exist", Required = true };
        var apart = new Option<string?>("--apart") { Description = "a data file of the same task whose problems are skipped: write the test file first, then the training file apart from it" };
        command.Options.Add(count);
        command.Options.Add(apart);
        command.Options.Add(seed);
        command.Options.Add(output);
        var taskOptions = new TaskOptions(command);

        command.SetAction(result =>
        {
            var task = taskOptions.Build(result).Build();
            int n = result.GetValue(count);
            if (n < 1) throw new UserError($"--count must be at least 1, got {n}");
            var random = SeededRandom.For(result.GetValue(seed), "data");
            string file = result.GetValue(output)!;
            var heldApart = result.GetValue(apart) is { } apartFile ? ProblemSet.Of(task, TaskFile.Read(task, apartFile)) : null;
            TaskFile.Write(task, TokenDataset.Draw(task, n, random, apart: heldApart), file);
            AnsiConsole.MarkupLine($"wrote {n:N0} {Markup.Escape(task.Description)} examples to {Markup.Escape(file)}" +
                (heldApart is null ? "" : $", none of them one of the {heldApart.Count:N0} problems of {Markup.Escape(result.GetValue(apart)!)}"));
            return 0;
        });
        return command;
    }
}
